module github.com/tsumugi-quic/tsumugi/integration_test

go 1.26.0

require (
	github.com/quic-go/quic-go v0.65.0
	github.com/tsumugi-quic/tsumugi v0.0.0-00010101000000-000000000000
	golang.org/x/net v0.62.0
	golang.org/x/sync v0.25.0
)

require (
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace github.com/tsumugi-quic/tsumugi => ../
