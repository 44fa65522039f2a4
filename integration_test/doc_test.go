// Package integration_test holds end-to-end tests of Tsumugi: interoperability
// with independent QUIC implementations (quic-go and golang.org/x/net/quic),
// and transfers through an impairment proxy. It is its own module so that
// users of Tsumugi do not pull in the test peers.
package integration_test
