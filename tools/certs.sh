#!/bin/sh
# certs.sh DIR [DEVICE_ID_1 [DEVICE_ID_2]]
#
# Generates a throwaway test PKI for Nimbus with openssl (EC P-256 keys):
#   ca.crt/.key            test CA (valid 2020-01-01 .. 2049-12-31)
#   server.crt/.key        CN=localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1
#   <id1>.crt/.key         device certificate, CN=<id1> (default nimbus-aws-demo)
#   <id2>.crt/.key         device certificate, CN=<id2> (default nimbus-azure-demo)
#   other-ca.crt/.key      a second, unrelated CA ("wrong CA" tests)
#   expired.crt/.key       CN=<id1> by ca.crt, valid only during 2020
#   unknown.crt/.key       CN=<id1> signed by other-ca.crt (unknown client)
#   <id>/ca.crt, <id>/device.crt, <id>/device.key
#                          each device's credentials in the names the Zephyr
#                          sample compiles in (CONFIG_NIMBUS_SAMPLE_CERTS_DIR)
#
# Dates: OpenSSL 3.0's "x509 -req -days" cannot produce a certificate
# valid in the past, so every certificate is issued with "openssl ca",
# whose -startdate/-enddate take absolute dates, from a minimal CA
# configuration written into DIR/.ca. No faketime needed.
#
# Idempotent: when DIR already holds a complete set for the same device
# ids, nothing is regenerated. Quiet: prints only where the files are, or
# openssl's output when a step fails. Test use only: keys are unencrypted.
set -eu

usage() {
    echo "usage: $0 DIR [DEVICE_ID_1 [DEVICE_ID_2]]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
DIR=$1
DEV1=${2:-nimbus-aws-demo}
DEV2=${3:-nimbus-azure-demo}
for id in "$DEV1" "$DEV2"; do
    case $id in
    '' | *[!A-Za-z0-9:_.-]*) echo "certs.sh: invalid device id '$id'" >&2; exit 2 ;;
    esac
done
[ "$DEV1" != "$DEV2" ] || { echo "certs.sh: device ids must differ" >&2; exit 2; }

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
STAMP="$DIR/.complete"
WANT="v2 $DEV1 $DEV2"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
    echo "test PKI in $DIR (unchanged)"
    exit 0
fi

umask 077
cd "$DIR"
rm -rf .ca .complete ca.* server.* other-ca.* expired.* unknown.* \
    "$DEV1".crt "$DEV1".key "$DEV2".crt "$DEV2".key "$DEV1" "$DEV2"
mkdir -p .ca/main/new .ca/other/new
LOG=.ca/openssl.log

# Runs a command quietly; shows its output and stops if it fails.
run() {
    if ! "$@" >"$LOG" 2>&1; then
        echo "certs.sh: failed: $*" >&2
        cat "$LOG" >&2
        exit 1
    fi
}

for db in main other; do
    : >".ca/$db/index.txt"
    echo 1000 >".ca/$db/serial"
done

cat >.ca/openssl.cnf <<'EOF'
[ main_ca ]
dir             = .ca/main
database        = $dir/index.txt
new_certs_dir   = $dir/new
serial          = $dir/serial
default_md      = sha256
policy          = policy_any
unique_subject  = no
copy_extensions = none
email_in_dn     = no

[ other_ca ]
dir             = .ca/other
database        = $dir/index.txt
new_certs_dir   = $dir/new
serial          = $dir/serial
default_md      = sha256
policy          = policy_any
unique_subject  = no
copy_extensions = none
email_in_dn     = no

[ policy_any ]
organizationName = optional
commonName       = supplied

[ req ]
distinguished_name = req_dn
prompt             = no
[ req_dn ]
CN = unused

[ ext_ca ]
basicConstraints       = critical, CA:true
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash

[ ext_server ]
basicConstraints       = critical, CA:false
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ ext_device ]
basicConstraints       = critical, CA:false
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
EOF
CNF=.ca/openssl.cnf

START=20200101000000Z   # every valid certificate starts here ...
END=20491231235959Z     # ... and ends here

# key NAME: an EC P-256 private key in NAME.key
key() {
    run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"
}

# csr NAME SUBJECT: a request for NAME.key
csr() {
    run openssl req -new -config "$CNF" -key "$1.key" -subj "$2" -out ".ca/$1.csr"
}

# selfsign NAME SECTION SUBJECT: a self-signed CA certificate
selfsign() {
    key "$1"
    csr "$1" "$3"
    run openssl ca -batch -notext -config "$CNF" -name "$2" -selfsign \
        -keyfile "$1.key" -extensions ext_ca -startdate "$START" -enddate "$END" \
        -in ".ca/$1.csr" -out "$1.crt"
}

# issue NAME SECTION CA EXT SUBJECT START END: a certificate signed by CA
issue() {
    key "$1"
    csr "$1" "$5"
    run openssl ca -batch -notext -config "$CNF" -name "$2" \
        -cert "$3.crt" -keyfile "$3.key" -extensions "$4" \
        -startdate "$6" -enddate "$7" -in ".ca/$1.csr" -out "$1.crt"
}

selfsign ca main_ca "/O=Nimbus Test/CN=Nimbus Test CA"
selfsign other-ca other_ca "/O=Unrelated Test/CN=Unrelated Test CA"
issue server main_ca ca ext_server "/CN=localhost" "$START" "$END"
issue "$DEV1" main_ca ca ext_device "/CN=$DEV1" "$START" "$END"
issue "$DEV2" main_ca ca ext_device "/CN=$DEV2" "$START" "$END"
issue expired main_ca ca ext_device "/CN=$DEV1" 20200101000000Z 20201231235959Z
issue unknown other_ca other-ca ext_device "/CN=$DEV1" "$START" "$END"

# Sanity: the good chains verify, the bad ones do not (for the right reason).
run openssl verify -CAfile ca.crt server.crt "$DEV1.crt" "$DEV2.crt"
if openssl verify -CAfile ca.crt expired.crt >/dev/null 2>&1; then
    echo "certs.sh: expired.crt unexpectedly verifies" >&2
    exit 1
fi
if openssl verify -CAfile ca.crt unknown.crt >/dev/null 2>&1; then
    echo "certs.sh: unknown.crt unexpectedly verifies against ca.crt" >&2
    exit 1
fi

# One directory per device, in the Zephyr sample's names.
for id in "$DEV1" "$DEV2"; do
    mkdir -p "$id"
    cp ca.crt "$id/ca.crt"
    cp "$id.crt" "$id/device.crt"
    cp "$id.key" "$id/device.key"
done

# Readable by a broker that drops privileges; these are throwaway keys.
chmod 644 ./*.crt ./*.key ./*/*.crt ./*/*.key
chmod 755 . "$DEV1" "$DEV2"
echo "$WANT" >"$STAMP"
echo "test PKI in $DIR"
