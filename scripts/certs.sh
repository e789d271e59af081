#!/usr/bin/env bash
# A lab PKI for HTTPS between the switches and FsDirectory (ECDSA P-256: the cheapest handshake), with openssl:
#
#   scripts/certs.sh DIR [SERVER_NAME] [SERVER_IP] [SWITCH...]
#
# DIR/ca.pem, ca.key           the CA (FreeSwitch:Access:TrustedCaFile, and the switches' ssl-cacert-file)
# DIR/server.pem, server.key   FsDirectory's certificate for SERVER_NAME and SERVER_IP (Https:CertificatePath, KeyPath)
# DIR/SWITCH.pem, SWITCH.key   one client certificate per switch (ssl-cert-path, ssl-key-path), CN = the switch's name
#
# Defaults: fsdirectory.local, 127.0.0.1, one switch "switch1". Existing files are kept (delete them to re-issue).
set -euo pipefail

dir=${1:?usage: scripts/certs.sh DIR [SERVER_NAME] [SERVER_IP] [SWITCH...]}
name=${2:-fsdirectory.local}
ip=${3:-127.0.0.1}
shift $(( $# < 3 ? $# : 3 ))
switches=("$@")
[ ${#switches[@]} -gt 0 ] || switches=(switch1)
days=${CERT_DAYS:-825}

mkdir -p "$dir"
umask 077

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [ ! -s "$dir/ca.pem" ]; then
  key "$dir/ca.key"
  openssl req -x509 -new -key "$dir/ca.key" -sha256 -days "$days" -subj "/CN=FsDirectory lab CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$dir/ca.pem"
fi

issue() { # issue NAME SUBJECT EXTENSIONS
  local out=$1 subject=$2 extensions=$3
  [ -s "$dir/$out.pem" ] && return 0
  key "$dir/$out.key"
  openssl req -new -key "$dir/$out.key" -subj "$subject" -out "$dir/$out.csr"
  openssl x509 -req -in "$dir/$out.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -sha256 -days "$days" \
    -extfile <(printf '%s\n' "$extensions") -out "$dir/$out.pem" 2>/dev/null
  rm -f "$dir/$out.csr"
}

issue server "/CN=$name" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:$name,IP:$ip"

for switch in "${switches[@]}"; do
  issue "$switch" "/CN=$switch" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
done

# Keys stay 0600: for the packaged service, chgrp fsdirectory server.key && chmod 0640 server.key.
chmod 0644 "$dir"/*.pem
echo "$dir: ca.pem, server.pem/server.key ($name, $ip), client certificates: ${switches[*]}"
