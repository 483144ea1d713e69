# ssh/sftp_vault.sh: tests/integration/sftp_vault.sh over transport = ssh (SFTP through a
# child ssh, drivers/sftp_exec.c): the same test, the same expectations.
NV_SFTP_TRANSPORT=ssh
. "$NV_SRCDIR/tests/integration/sftp_vault.sh"
