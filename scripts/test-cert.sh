#!/usr/bin/env bash
# A throwaway CA and a server certificate it signs, for the test servers' TLS (127.0.0.1 and
# localhost). Usage: scripts/test-cert.sh DIR CA_PEM — writes DIR/server.crt and DIR/server.key
# (mode 600) and the CA's certificate to CA_PEM; the CA's key stays in DIR. EC keys: quick to make.
set -euo pipefail
dir=$1
ca=$2
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -days 7 -subj "/CN=polder test CA" -keyout "$dir/ca.key" -out "$ca" 2>/dev/null
openssl req "${ec[@]}" -subj "/CN=localhost" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$dir/server.ext"
openssl x509 -req -in "$dir/server.csr" -CA "$ca" -CAkey "$dir/ca.key" -CAcreateserial -days 7 \
    -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null
chmod 600 "$dir/server.key"
