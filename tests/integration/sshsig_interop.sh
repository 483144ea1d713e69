#!/bin/sh
# sshsig_interop.sh: navette's Ed25519 keys and SSHSIG signatures against stock
# OpenSSH ssh-keygen, both ways. Driven through tests/sshsig/nv-sshsig-tool.
. "$NV_SRCDIR/tests/lib/common.sh"

command -v ssh-keygen >/dev/null 2>&1 || nv_need "ssh-keygen (openssh-client) is not installed"
TOOL="$NV_BUILDDIR/tests/sshsig/nv-sshsig-tool"
[ -x "$TOOL" ] || nv_die "$TOOL not built"
NS=navette-manifest
cd "$NV_TMP" || exit 1

printf '{"vault":"v1","generation":1}\n' > msg
printf '{"vault":"v1","generation":2}\n' > other-msg
head -c 300000 /dev/urandom > big

# --- keys made by ssh-keygen, used by navette ---
ssh-keygen -q -t ed25519 -N '' -C ssh@test -f skey
check "navette loads an ssh-keygen private key" sh -c "\"$TOOL\" pubkey skey > skey.nvpub"
check "  and derives the same public key" \
	sh -c "[ \"\$(cut -d' ' -f1,2 skey.nvpub)\" = \"\$(cut -d' ' -f1,2 skey.pub)\" ]"
check "fingerprint equals ssh-keygen -l" \
	sh -c "[ \"\$(\"$TOOL\" fingerprint skey.pub)\" = \"\$(ssh-keygen -l -f skey.pub | cut -d' ' -f2)\" ]"

echo "navette $(cut -d' ' -f1,2 skey.pub)" > allowed_signers
for f in msg big; do
	check "navette signs $f with an ssh-keygen key" "$TOOL" sign skey $NS $f $f.nvsig
	check "  ssh-keygen -Y verify accepts it" \
		sh -c "ssh-keygen -Y verify -f allowed_signers -I navette -n $NS -s $f.nvsig < $f >/dev/null 2>&1"
	ssh-keygen -Y sign -f skey -n $NS -q $f 2>/dev/null
	check "  byte-identical to ssh-keygen -Y sign" cmp -s $f.nvsig $f.sig
done
check "ssh-keygen refuses navette's signature for other data" \
	sh -c "! ssh-keygen -Y verify -f allowed_signers -I navette -n $NS -s msg.nvsig < other-msg >/dev/null 2>&1"
check "ssh-keygen refuses navette's signature in another namespace" \
	sh -c "! ssh-keygen -Y verify -f allowed_signers -I navette -n navette-vault -s msg.nvsig < msg >/dev/null 2>&1"

# --- signatures made by ssh-keygen, verified by navette ---
rm -f msg.sig
ssh-keygen -Y sign -f skey -n $NS -q msg 2>/dev/null
expect_exit 0 "navette verifies ssh-keygen -Y sign (sha512)" "$TOOL" verify skey.pub $NS msg msg.sig
ssh-keygen -Y sign -f skey -n $NS -O hashalg=sha256 < msg > msg.sig256 2>/dev/null
expect_exit 0 "navette verifies ssh-keygen -Y sign (sha256)" "$TOOL" verify skey.pub $NS msg msg.sig256
expect_exit 1 "navette refuses it over other data" "$TOOL" verify skey.pub $NS other-msg msg.sig
expect_err "bad signature" "  saying the signature is bad"
expect_exit 1 "navette refuses it in another namespace" "$TOOL" verify skey.pub navette-vault msg msg.sig
expect_err "namespace" "  naming the namespace"
ssh-keygen -q -t ed25519 -N '' -C other -f okey
expect_exit 1 "navette refuses it for another key" "$TOOL" verify okey.pub $NS msg msg.sig
expect_err "another key" "  saying another key signed"
# rotate the capitals of the line holding the Ed25519 signature bytes
sed '4y/ABCDEFGHIJKLMNOPQRSTUVWXYZ/BCDEFGHIJKLMNOPQRSTUVWXYZA/' msg.sig > msg.sig.bad
check "  (the edit changed the file)" sh -c "! cmp -s msg.sig msg.sig.bad"
expect_exit 1 "navette refuses an edited signature" "$TOOL" verify skey.pub $NS msg msg.sig.bad

# --- keys made by navette, used by ssh-keygen ---
check "navette makes a key pair" "$TOOL" keygen nkey "navette@test"
check "  private file is mode 600" sh -c "[ \"\$(stat -c %a nkey)\" = 600 ]"
check "  ssh-keygen -y reads navette's private key" sh -c "ssh-keygen -y -f nkey > nkey.sshpub"
check "  and finds the same public key" \
	sh -c "[ \"\$(cut -d' ' -f1,2 nkey.sshpub)\" = \"\$(cut -d' ' -f1,2 nkey.pub)\" ]"
check "  ssh-keygen -l reads navette's .pub" \
	sh -c "[ \"\$(ssh-keygen -l -f nkey.pub | cut -d' ' -f2)\" = \"\$(\"$TOOL\" fingerprint nkey.pub)\" ]"
cp msg msg2
check "  ssh-keygen -Y sign signs with navette's key" \
	sh -c "ssh-keygen -Y sign -f nkey -n $NS -q msg2 2>/dev/null"
expect_exit 0 "  navette verifies that" "$TOOL" verify nkey.pub $NS msg2 msg2.sig
echo "navette $(cut -d' ' -f1,2 nkey.pub)" > allowed_nkey
check "navette signs with its own key" "$TOOL" sign nkey $NS msg msg.nsig
check "  ssh-keygen -Y verify accepts it" \
	sh -c "ssh-keygen -Y verify -f allowed_nkey -I navette -n $NS -s msg.nsig < msg >/dev/null 2>&1"
check "  ssh-keygen -Y check-novalidate agrees on the namespace" \
	sh -c "ssh-keygen -Y check-novalidate -n $NS -s msg.nsig < msg >/dev/null 2>&1"

# --- refusals on load ---
cp skey loose && chmod 644 loose
expect_exit 1 "a private key readable by others is refused" "$TOOL" pubkey loose
expect_err "group or others" "  with a clear message"
ssh-keygen -q -t ed25519 -N 'a passphrase' -f ekey
expect_exit 1 "a passphrase-protected key needs its passphrase" "$TOOL" pubkey ekey
expect_err "ekey is passphrase-protected: a passphrase is needed" "  with a clear message"
ssh-keygen -q -t ecdsa -N '' -f eckey
expect_exit 1 "an ECDSA key is refused" "$TOOL" pubkey eckey
expect_err "only ssh-ed25519" "  naming the supported type"

nv_done
