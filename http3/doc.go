// Package http3 is HTTP/3 (RFC 9114) over Tsumugi QUIC: a Server that
// serves any net/http Handler, and a Transport that implements
// http.RoundTripper.
//
// Header compression is QPACK (RFC 9204) with the static table and
// literals only: we advertise a dynamic table capacity of 0, so peers
// never use one toward us, and our encoder never uses theirs. Priorities
// follow RFC 9218: the priority request header and PRIORITY_UPDATE frames
// set the urgency and incremental flag of the response's stream. Server
// push is never offered (we send no MAX_PUSH_ID, and refuse pushes).
//
// Serving a handler:
//
//	cert, _ := tls.LoadX509KeyPair("cert.pem", "key.pem")
//	ln, err := quic.Listen("udp", ":443", &tls.Config{
//		Certificates: []tls.Certificate{cert},
//		NextProtos:   []string{http3.NextProtoH3},
//	}, nil)
//	if err != nil {
//		log.Fatal(err)
//	}
//	srv := &http3.Server{Handler: http.FileServer(http.Dir("/srv/www"))}
//	log.Fatal(srv.Serve(ln))
//
// Fetching:
//
//	tr := &http3.Transport{}
//	defer tr.Close()
//	client := &http.Client{Transport: tr}
//	resp, err := client.Get("https://example.com/")
//
// Requests arrive as HTTP/3.0 (r.ProtoMajor 3); request bodies are read
// from the stream as the handler reads r.Body; the ResponseWriter
// implements http.Flusher and what http.ResponseController uses; trailers
// work both ways as in net/http. Shutdown sends GOAWAY and waits for the
// requests in progress.
package http3
