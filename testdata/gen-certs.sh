#!/usr/bin/env bash
# Generates the TLS material the tests and the seed walkthrough use, with the
# openssl command-line tool, into the directory given as argument:
#   ca.crt                 the cluster's CA
#   server.crt/.key        for IP 127.0.0.1 (and localhost), usable as server
#                          and client certificate (peers are both); PKCS#8 key
#   server-rsa.key         the same key in the traditional "RSA PRIVATE KEY" form
#   server-chain.crt       server.crt followed by ca.crt (a chain as CAs ship it)
#   client.crt/.key        a client certificate signed by ca.crt
#   other-ca.crt           an unrelated CA
#   other.crt/.key         like server.crt but signed by other-ca.crt
# Validity: DAYS (default 36500, i.e. 100 years).
set -euo pipefail

dir=${1:?usage: gen-certs.sh DIR}
days=${DAYS:-36500}
mkdir -p "$dir"
cd "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

new_key() { openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null || openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }

new_ca() {  # new_ca NAME SUBJECT
    new_key "$tmp/$1.key"
    openssl req -x509 -new -key "$tmp/$1.key" -sha256 -days "$days" -subj "$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$1.crt"
    cp "$tmp/$1.key" "$1.key"
}

new_cert() {  # new_cert NAME CA SUBJECT EXTENSIONS
    new_key "$1.key"
    openssl req -new -key "$1.key" -subj "$3" -out "$tmp/$1.csr"
    printf '%s\n' "$4" >"$tmp/$1.ext"
    openssl x509 -req -in "$tmp/$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial \
        -sha256 -days "$days" -extfile "$tmp/$1.ext" -out "$1.crt" 2>/dev/null
}

peer_ext='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=IP:127.0.0.1,DNS:localhost'
client_ext='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth'

new_ca ca "/CN=etcd test CA"
new_cert server ca "/CN=127.0.0.1" "$peer_ext"
new_cert client ca "/CN=etcd test client" "$client_ext"
new_ca other-ca "/CN=unrelated test CA"
new_cert other other-ca "/CN=127.0.0.1" "$peer_ext"

openssl rsa -in server.key -traditional -out server-rsa.key 2>/dev/null
cat server.crt ca.crt >server-chain.crt
# The CA keys are not needed once the certificates are signed.
rm -f ca.key other-ca.key ca.srl other-ca.srl
echo "certificates written to $dir"
