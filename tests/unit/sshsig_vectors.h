/* sshsig_vectors.h: throwaway keys and signatures made by stock OpenSSH 9.2
 * ssh-keygen, shared by test_sshkey.c and test_sshsig.c. Test-only secrets. */
#ifndef NV_SSHSIG_VECTORS_H
#define NV_SSHSIG_VECTORS_H

/* ssh-keygen -t ed25519 -N '' -C me@host -f k */
static const char vec_priv[] =
	"-----BEGIN OPENSSH PRIVATE KEY-----\n"
	"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
	"QyNTUxOQAAACAVKpoJHfIwKeKJc0UrzrNFYLCzEiqMYhu7CPb9HsrZfwAAAJBHhx36R4cd\n"
	"+gAAAAtzc2gtZWQyNTUxOQAAACAVKpoJHfIwKeKJc0UrzrNFYLCzEiqMYhu7CPb9HsrZfw\n"
	"AAAEDNtJgps4JFHsRw6ZFjdrQB0Gq4DWmgGBLDApiLp5oM0RUqmgkd8jAp4olzRSvOs0Vg\n"
	"sLMSKoxiG7sI9v0eytl/AAAAB21lQGhvc3QBAgMEBQY=\n"
	"-----END OPENSSH PRIVATE KEY-----\n";
static const char vec_pub[] =
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBUqmgkd8jAp4olzRSvOs0VgsLMSKoxiG7sI9v0eytl/ me@host";
/* ssh-keygen -l -f k.pub */
static const char vec_fp[] = "SHA256:d8XTDz5PGwWLdft2URxPC98CRtAysR1eejSyl9JQD7g";

/* printf 'hello\n' | ssh-keygen -Y sign -f k -n navette-manifest */
static const char vec_msg[] = "hello\n";
static const char vec_sig512[] =
	"-----BEGIN SSH SIGNATURE-----\n"
	"U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAgFSqaCR3yMCniiXNFK86zRWCwsx\n"
	"IqjGIbuwj2/R7K2X8AAAAQbmF2ZXR0ZS1tYW5pZmVzdAAAAAAAAAAGc2hhNTEyAAAAUwAA\n"
	"AAtzc2gtZWQyNTUxOQAAAECYu5K3iD0MubVoR3kvdhj+v8fqr1xOuEqJ84c58yp3doT0St\n"
	"YoIeJ8+9avqjG8CCCixrvNtTLiDoffJ8SIiXQH\n"
	"-----END SSH SIGNATURE-----\n";
/* the same with -O hashalg=sha256 */
static const char vec_sig256[] =
	"-----BEGIN SSH SIGNATURE-----\n"
	"U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAgFSqaCR3yMCniiXNFK86zRWCwsx\n"
	"IqjGIbuwj2/R7K2X8AAAAQbmF2ZXR0ZS1tYW5pZmVzdAAAAAAAAAAGc2hhMjU2AAAAUwAA\n"
	"AAtzc2gtZWQyNTUxOQAAAEDrF97jT8NaWBtRAY98kHopAKM3YRMh6tNP+RHtCwXlNmkZ1v\n"
	"zauOGIy9vSe5BQEkblDxRgCDXLrz3M/R3zafQM\n"
	"-----END SSH SIGNATURE-----\n";
/* ssh-keygen -Y sign -f k -n navette-vault < /dev/null (empty message) */
static const char vec_sig_empty_vault[] =
	"-----BEGIN SSH SIGNATURE-----\n"
	"U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAgFSqaCR3yMCniiXNFK86zRWCwsx\n"
	"IqjGIbuwj2/R7K2X8AAAANbmF2ZXR0ZS12YXVsdAAAAAAAAAAGc2hhNTEyAAAAUwAAAAtz\n"
	"c2gtZWQyNTUxOQAAAEDi8vZEq2c2oG8N8jPqe7qoyUeiC4Mr2FY8UsBMB1CjSuM77Qjr7Y\n"
	"E2Y0Xy1sy3OqtDPQZuQbbIJqxcDhvv6/gI\n"
	"-----END SSH SIGNATURE-----\n";

/* ssh-keygen -t ed25519 -N secretpw -C enc -f enc */
static const char vec_priv_encrypted[] =
	"-----BEGIN OPENSSH PRIVATE KEY-----\n"
	"b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABD9ZKBSFw\n"
	"4ppV8yOcfBCWGCAAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIKgkp5VeNCRMLNNA\n"
	"9SwQh2e7kvc1mM+jNimCgoOSC92PAAAAkILuyxFvwwQks+CuwOpEGfygl+Sd0AbiyMvrbj\n"
	"zglmKoULUH/DtT96PB4kzARZalK3BWnyP1+Ju6Ks1aOM8A3sfx0OtUjWoz4+JqulxpnD4m\n"
	"K8h0gIUYIelmP5eX5jbbjhvq1gti+o1ank+aRjFrOtkD4zuJqyG9Y6hd2Ytnbah3y8p9ff\n"
	"GbVHkvOhJtcVyaHQ==\n"
	"-----END OPENSSH PRIVATE KEY-----\n";

/* ssh-keygen -t ecdsa -N '' -C ec -f ec */
static const char vec_priv_ecdsa[] =
	"-----BEGIN OPENSSH PRIVATE KEY-----\n"
	"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAaAAAABNlY2RzYS\n"
	"1zaGEyLW5pc3RwMjU2AAAACG5pc3RwMjU2AAAAQQTmSJg4EM7SQCpCyXcjhM4L58K8ol1i\n"
	"v6xpyiwXcNC9K0E5fxAGiYoaaAPRCvgi3AQ3z8osth+9XF8BlwdcMIkyAAAAoAJYTGACWE\n"
	"xgAAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBOZImDgQztJAKkLJ\n"
	"dyOEzgvnwryiXWK/rGnKLBdw0L0rQTl/EAaJihpoA9EK+CLcBDfPyiy2H71cXwGXB1wwiT\n"
	"IAAAAhAK7j+r14tGuUKArf2RjUHClMzDu1+2IabCp2gLtO5UsyAAAAAmVjAQIDBAU=\n"
	"-----END OPENSSH PRIVATE KEY-----\n";

#endif
