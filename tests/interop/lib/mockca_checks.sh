# lib/mockca_checks.sh: helpers the client interop scripts (certbot.sh, lego.sh, uacme.sh)
# share. Sourced, not run: ctest registers only tests/interop/*.sh, not this folder.
# The caller provides: fail MESSAGE (print and exit 1), $WORK (its temp dir), $TLS_ROOT
# (the root mockca's listeners chain to) and $WORK/root.pem (the issuing root, /roots/0).

# A free TCP port on 127.0.0.1, picked by the kernel (the socket is closed at once, so a
# small race with other processes remains; the scripts bind it right after).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# check_status CERT ISSUER good|revoked: the OCSP responder CERT names answers WANT, in a
# response that verifies against /roots/0; the CRL CERT names verifies under ISSUER and
# lists CERT's serial exactly when it is revoked.
check_status() {
    local cert=$1 issuer=$2 want=$3 url crl serial listed=no
    url=$(openssl x509 -noout -ocsp_uri -in "$cert")
    [ -n "$url" ] || fail "$cert names no OCSP responder"
    cat "$TLS_ROOT" "$WORK/root.pem" >"$WORK/trust.pem" # TLS to the responder, then the response
    openssl ocsp -issuer "$issuer" -cert "$cert" -url "$url" -CAfile "$WORK/trust.pem" \
        -timeout 10 >"$WORK/ocsp.out" 2>&1 || fail "openssl ocsp $url: $(cat "$WORK/ocsp.out")"
    grep -q '^Response verify OK' "$WORK/ocsp.out" ||
        fail "the OCSP response for $cert does not verify: $(cat "$WORK/ocsp.out")"
    grep -qx "$cert: $want" "$WORK/ocsp.out" ||
        fail "OCSP status of $cert is not $want: $(cat "$WORK/ocsp.out")"
    crl=$(openssl x509 -noout -ext crlDistributionPoints -in "$cert" | sed -n 's/^ *URI://p' |
        head -n 1)
    [ -n "$crl" ] || fail "$cert names no CRL distribution point"
    curl -sf --max-time 10 --cacert "$TLS_ROOT" -o "$WORK/crl.der" "$crl" || fail "GET $crl failed"
    openssl crl -inform DER -in "$WORK/crl.der" -CAfile "$issuer" -noout -text \
        >"$WORK/crl.txt" 2>&1 || fail "openssl crl: $(cat "$WORK/crl.txt")"
    grep -q '^verify OK' "$WORK/crl.txt" || fail "the CRL does not verify under $issuer"
    serial=$(openssl x509 -noout -serial -in "$cert" | sed 's/^serial=//')
    grep -q "Serial Number: $serial\$" "$WORK/crl.txt" && listed=yes
    if [ "$want" = revoked ]; then
        [ "$listed" = yes ] || fail "the CRL does not list revoked serial $serial"
    else
        [ "$listed" = no ] || fail "the CRL lists serial $serial, which is not revoked"
    fi
}
