module github.com/tsumugi-quic/tsumugi

go 1.26
