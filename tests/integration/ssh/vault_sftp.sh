# ssh/vault_sftp.sh: tests/integration/vault_sftp.sh over transport = ssh (SFTP through a
# child ssh, drivers/sftp_exec.c): the same test, the same expectations.
NV_SFTP_TRANSPORT=ssh
. "$NV_SRCDIR/tests/integration/vault_sftp.sh"
