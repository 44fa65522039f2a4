package http3_test

import (
	"crypto/tls"
	"io"
	"log"
	"net/http"

	"github.com/tsumugi-quic/tsumugi/http3"
	"github.com/tsumugi-quic/tsumugi/quic"
)

func ExampleServer() {
	cert, err := tls.LoadX509KeyPair("cert.pem", "key.pem")
	if err != nil {
		log.Fatal(err)
	}
	ln, err := quic.Listen("udp", "127.0.0.1:4433", &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{http3.NextProtoH3},
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http3.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello over "+r.Proto+"\n")
	})}
	log.Fatal(srv.Serve(ln))
}

func ExampleTransport() {
	tr := &http3.Transport{}
	defer tr.Close()
	client := &http.Client{Transport: tr}
	resp, err := client.Get("https://127.0.0.1:4433/")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
}
