package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/tsumugi-quic/tsumugi/internal/certs"
)

// keyLogWriter opens the TLS key log (NSS key log format, for Wireshark):
// the file named by -keylog, else by SSLKEYLOGFILE, else none (nil).
func keyLogWriter(flagFile string) (io.WriteCloser, error) {
	name := flagFile
	if name == "" {
		name = os.Getenv("SSLKEYLOGFILE")
	}
	if name == "" {
		return nil, nil
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("key log: %w", err)
	}
	return f, nil
}

// serverCertificate loads -cert and -key, or makes a self-signed
// certificate for localhost, 127.0.0.1 and ::1 when both are empty.
func serverCertificate(certFile, keyFile string) (cert tls.Certificate, selfSigned bool, err error) {
	switch {
	case certFile == "" && keyFile == "":
		cert, _, err = certs.Localhost()
		return cert, true, err
	case certFile == "" || keyFile == "":
		return tls.Certificate{}, false, errors.New("-cert and -key go together")
	}
	cert, err = tls.LoadX509KeyPair(certFile, keyFile)
	return cert, false, err
}

// caPool reads PEM certificates to trust from file.
func caPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate in it", file)
	}
	return pool, nil
}
