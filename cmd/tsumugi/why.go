package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tsumugi-quic/tsumugi/http3"
	"github.com/tsumugi-quic/tsumugi/quic"
	"github.com/tsumugi-quic/tsumugi/stream"
)

// TLS alerts (RFC 8446 §6) that mean a certificate was not accepted.
var certificateAlerts = map[uint8]string{
	42:  "bad_certificate",
	43:  "unsupported_certificate",
	44:  "certificate_revoked",
	45:  "certificate_expired",
	46:  "certificate_unknown",
	48:  "unknown_ca",
	116: "certificate_required",
}

// alertNoApplicationProtocol is the TLS alert for a refused ALPN
// (RFC 7301 §3.2); QUIC sends it as CRYPTO_ERROR 0x178 (RFC 9001 §8.1).
const alertNoApplicationProtocol = 120

// why says in one line why a fetch failed. handshakeTimeout is the one
// the client used.
func why(err error, handshakeTimeout time.Duration) string {
	var (
		he   *http3.Error
		hs   *statusError
		se   *stream.StreamError
		te   *quic.TransportError
		ae   *quic.ApplicationError
		save *saveError
		de   *dialError
		ne   net.Error
	)
	switch {
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.As(err, &save):
		return save.Error()
	case errors.As(err, &hs) && hs.code == http.StatusNotFound:
		return "file missing: HTTP status " + hs.status
	case errors.As(err, &hs):
		return "HTTP status " + hs.status
	case errors.As(err, &he) && he.Remote && he.Connection:
		return fmt.Sprintf("connection closed by the server with %v%s", he.Code, reason(he.Reason))
	case errors.As(err, &he) && he.Remote:
		return fmt.Sprintf("stream reset by the server with %v", he.Code)
	case errors.As(err, &he):
		return fmt.Sprintf("HTTP/3 protocol error, we sent %v%s", he.Code, reason(he.Reason))
	case errors.As(err, &se) && se.Remote:
		switch se.Code {
		case codeNotFound:
			return fmt.Sprintf("file missing: the server reset the stream with code 0x%x (not found)", se.Code)
		case codeBadRequest:
			return fmt.Sprintf("request refused: the server reset the stream with code 0x%x (bad request)", se.Code)
		case codeInternal:
			return fmt.Sprintf("server failed: it reset the stream with code 0x%x (internal error)", se.Code)
		}
		return fmt.Sprintf("stream reset by the server with code 0x%x", se.Code)
	case errors.Is(err, quic.ErrHandshakeTimeout):
		return fmt.Sprintf("unreachable: no QUIC handshake within %v", handshakeTimeout)
	case errors.As(err, &te) && te.Code.IsCryptoError():
		alert := te.Code.TLSAlert()
		switch name, isCert := certificateAlerts[alert]; {
		case isCert && !te.Remote:
			return "certificate rejected: " + te.Reason
		case isCert:
			return fmt.Sprintf("certificate rejected by the server (TLS alert %s)", name)
		case alert == alertNoApplicationProtocol:
			return "ALPN refused: " + refusedALPN(err)
		}
		return fmt.Sprintf("TLS handshake failed (%v): %s", te.Code, te.Reason)
	case errors.As(err, &te):
		return fmt.Sprintf("connection closed by %s with transport error %v%s", side(te.Remote), te.Code, reason(te.Reason))
	case errors.As(err, &ae):
		return fmt.Sprintf("connection closed by %s with application error 0x%x%s%s", side(ae.Remote), ae.Code, h3CodeName(ae.Code), reason(ae.Reason))
	case errors.Is(err, quic.ErrIdleTimeout):
		return "connection timed out: no network activity"
	case errors.Is(err, quic.ErrStatelessReset):
		return "connection reset by the server (stateless reset)"
	case errors.As(err, &se):
		return fmt.Sprintf("stream canceled locally with code 0x%x", se.Code)
	case errors.As(err, &de) && errors.As(err, &ne):
		return "unreachable: " + de.Error()
	case errors.As(err, &de):
		return "cannot connect: " + de.Error()
	}
	return err.Error()
}

// refusedALPN says which protocols the server refused: those the
// dialError that err holds offered.
func refusedALPN(err error) string {
	var de *dialError
	protos := []string{alpn}
	if errors.As(err, &de) && len(de.protos) > 0 {
		protos = de.protos
	}
	if len(protos) == 1 {
		return fmt.Sprintf("the server does not speak %q", protos[0])
	}
	q := make([]string, len(protos))
	for i, p := range protos {
		q[i] = strconv.Quote(p)
	}
	return "the server speaks none of " + strings.Join(q, ", ")
}

// h3CodeName names an HTTP/3 or QPACK error code (RFC 9114 §8.1,
// RFC 9204 §6) in parentheses, and is empty for any other code.
func h3CodeName(code uint64) string {
	c := http3.ErrCode(code)
	if name := c.String(); !strings.HasPrefix(name, "H3_0x") && !strings.HasPrefix(name, "H3_GREASE") {
		return " (" + name + ")"
	}
	return ""
}

func side(remote bool) string {
	if remote {
		return "the server"
	}
	return "us"
}

func reason(r string) string {
	if r == "" {
		return ""
	}
	return ": " + r
}
