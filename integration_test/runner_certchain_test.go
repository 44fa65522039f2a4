package integration_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"net"
	"sync"
	"time"
)

// certChain builds what the runner's amplificationlimit case serves: a
// chain of n certificates (a root, n-2 intermediates, the leaf for
// localhost), all sent by the server. Each carries a non-critical
// extension of padding so that the chain is well over 7,500 bytes, the
// least Handshake CRYPTO data the runner accepts as "used the chain";
// verifiers ignore unknown non-critical extensions (RFC 5280 §4.2).
func certChain(n int) (server, client *tls.Config, err error) {
	padding, err := asn1.Marshal(make([]byte, 700))
	if err != nil {
		return nil, nil, err
	}
	padExt := pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 55555, 1}, Value: padding}
	now := time.Now()
	var (
		parent    *x509.Certificate
		parentKey *ecdsa.PrivateKey
		chain     [][]byte
		pool      = x509.NewCertPool()
	)
	for i := range n {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber:    big.NewInt(int64(i + 1)),
			Subject:         pkix.Name{CommonName: fmt.Sprintf("tsumugi test chain %d", i)},
			NotBefore:       now.Add(-time.Hour),
			NotAfter:        now.Add(24 * time.Hour),
			ExtraExtensions: []pkix.Extension{padExt},
		}
		if i < n-1 { // root and intermediates
			tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
			tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
		} else {
			tmpl.DNSNames = []string{"localhost"}
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
			tmpl.KeyUsage = x509.KeyUsageDigitalSignature
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}
		signer, signerKey := parent, parentKey
		if signer == nil {
			signer, signerKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
		if err != nil {
			return nil, nil, err
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, nil, err
		}
		if i == 0 {
			pool.AddCert(cert)
		}
		chain = append([][]byte{der}, chain...) // the leaf first, the root last
		parent, parentKey = cert, key
	}
	leaf := tls.Certificate{Certificate: chain, PrivateKey: parentKey}
	server = &tls.Config{Certificates: []tls.Certificate{leaf}, NextProtos: []string{alpn}}
	client = &tls.Config{RootCAs: pool, NextProtos: []string{alpn}, ServerName: "localhost"}
	return server, client, nil
}

var nineCerts = sync.OnceValues(func() ([2]*tls.Config, error) {
	s, c, err := certChain(9)
	return [2]*tls.Config{s, c}, err
})
