package integration_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// An independent dissector's check of our wire format: a transfer between
// Tsumugi's client and server is captured on the loopback interface and
// decoded by Wireshark's tshark with the client's key log, as the interop
// runner does with its captures. tshark must find nothing malformed and
// decrypt every QUIC packet, and it must see the STREAM frames and both key
// phases. tshark and dumpcap come from Debian's tshark package
// (apt-get install tshark); capturing needs root or the wireshark group.

// TestTsharkCapture runs one transfer in QUIC v1 and one in v2, each with
// key updates, and has tshark read the captures.
func TestTsharkCapture(t *testing.T) {
	tshark, err1 := exec.LookPath("tshark")
	dumpcap, err2 := exec.LookPath("dumpcap")
	if err1 != nil || err2 != nil {
		t.Skip("tshark or dumpcap not installed (Debian package tshark): no capture check")
	}
	for _, tc := range []struct {
		name    string
		version uint32
	}{{"v1", wire.Version1}, {"v2", wire.Version2}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			keylog := filepath.Join(dir, "keylog.txt")
			pcap := filepath.Join(dir, "capture.pcapng")
			port, stats := capturedTransfer(t, dumpcap, pcap, keylog, tc.version)
			t.Logf("client: %d packets sent, %d received, %d key updates", stats.PacketsSent, stats.PacketsReceived, stats.KeyUpdates)
			read := func(filter string, fields ...string) []string {
				t.Helper()
				args := []string{"-r", pcap, "-o", "tls.keylog_file:" + keylog, "-d", fmt.Sprintf("udp.port==%d,quic", port),
					"-Y", fmt.Sprintf("udp.port == %d && (%s)", port, filter)}
				if len(fields) > 0 {
					args = append(args, "-T", "fields")
					for _, f := range fields {
						args = append(args, "-e", f)
					}
				}
				out, err := exec.Command(tshark, args...).CombinedOutput()
				if err != nil {
					t.Fatalf("tshark -Y %q: %v\n%s", filter, err, out)
				}
				var lines []string
				for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
					if l != "" && !strings.HasPrefix(l, "Running as user") {
						lines = append(lines, l)
					}
				}
				return lines
			}
			all := read("udp")
			if len(all) < 100 {
				t.Fatalf("only %d datagrams captured", len(all))
			}
			if bad := read("_ws.malformed || _ws.expert.severity >= \"error\" || quic.decryption_failed || (udp && !quic)"); len(bad) > 0 {
				t.Errorf("tshark finds %d of %d datagrams malformed or undecryptable, e.g.:\n%s", len(bad), len(all), strings.Join(bad[:min(len(bad), 10)], "\n"))
			}
			if hello := read("tls.handshake.type == 1"); len(hello) == 0 {
				t.Error("tshark sees no ClientHello")
			}
			if streams := read("quic.stream.stream_id"); len(streams) == 0 {
				t.Error("tshark sees no STREAM frame: the 1-RTT packets were not decrypted")
			}
			phases := map[string]int{}
			for _, l := range read("quic.short", "quic.key_phase") {
				phases[l]++
			}
			t.Logf("tshark: %d datagrams; 1-RTT packets by key phase %v", len(all), phases)
			if len(phases) < 2 {
				t.Errorf("1-RTT packets in key phases %v: want both", phases)
			}
			want := fmt.Sprintf("0x%08x", tc.version)
			for _, v := range read("quic.long.packet_type || quic.long.packet_type_v2", "quic.version") {
				if !strings.Contains(v, want) {
					t.Errorf("a long header of version %s, want %s", v, want)
					break
				}
			}
		})
	}
}

// capturedTransfer captures, with dumpcap on lo, a transfer between
// Tsumugi's client and server in the given version, the client writing
// its key log to keylog, and returns the port whose datagrams tshark must
// read and the client's counters. The test is skipped if the capture
// cannot start.
//
// The transfer crosses two proxies in a row, and the capture takes the
// link between them: our endpoints send in GSO batches, which a capture on
// lo shows as one UDP datagram holding several QUIC packets, while a
// proxy, reading with a plain socket, gets and sends them one by one, as a
// network would carry them. Between the two proxies both directions are so
// sent, on one pair of ports: tshark then sees one connection.
func capturedTransfer(t *testing.T, dumpcap, pcap, keylog string, version uint32) (int, quic.Stats) {
	t.Helper()
	stc, ctc := testTLS(t)
	klf, err := os.Create(keylog)
	if err != nil {
		t.Fatal(err)
	}
	defer klf.Close()
	ctc.KeyLogWriter = klf
	// Key updates every 20 packets either way, so that the capture shows
	// them.
	conf := &quic.Config{KeyUpdateInterval: 20, Versions: []uint32{version}}
	ln, err := quic.Listen("udp", "127.0.0.1:0", stc, conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	near := newProxy(t, ln.Addr().String(), proxyConfig{})
	far := newProxy(t, near.addr(), proxyConfig{}) // the client's side
	port := near.front.LocalAddr().(*net.UDPAddr).Port
	probe := listenUDP(t) // datagrams to it tell that the capture runs
	probePort := probe.LocalAddr().(*net.UDPAddr).Port

	filter := fmt.Sprintf("udp and (port %d or dst port %d)", port, probePort)
	capture := exec.Command(dumpcap, "-i", "lo", "-f", filter, "-w", pcap)
	stderr, err := capture.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := capture.Start(); err != nil {
		t.Skipf("cannot start dumpcap: %v", err)
	}
	stop := func() {
		capture.Process.Signal(os.Interrupt)
		capture.Wait()
	}
	// dumpcap reports "Capturing on ..." a moment before it captures, and
	// then "Packets: N" as it writes: probe until a packet is counted.
	counting, failed := make(chan struct{}), make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
			if i := strings.IndexAny(string(data), "\r\n"); i >= 0 {
				return i + 1, data[:i], nil
			}
			if atEOF && len(data) > 0 {
				return len(data), data, nil
			}
			return 0, nil, nil
		})
		var text strings.Builder
		seen := false
		for sc.Scan() {
			line := sc.Text()
			text.WriteString(line + "\n")
			if !seen && strings.Contains(line, "Packets:") && !strings.Contains(line, "Packets: 0") {
				seen = true
				close(counting)
			}
		}
		if !seen {
			failed <- text.String()
		}
	}()
	probeTo := net.UDPAddrFromAddrPort(probe.LocalAddr().(*net.UDPAddr).AddrPort())
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	guard := time.After(30 * time.Second) // a hang guard
wait:
	for {
		select {
		case <-counting:
			break wait
		case msg := <-failed:
			capture.Wait()
			t.Skipf("capture not possible here: %s", msg)
		case <-guard:
			stop()
			t.Skip("dumpcap counted no packet")
		case <-tick.C:
			probe.WriteToUDP([]byte("probe"), probeTo)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	served := make(chan struct{})
	go func() {
		defer close(served)
		c, err := ln.Accept(ctx)
		if err != nil {
			return
		}
		serveConn(ctx, oursConn{c})
	}()
	from, err := quic.Listen("udp", "127.0.0.1:0", stc, conf) // closed, with its connection, when the test ends
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { from.Close() })
	c, err := from.Dial(ctx, far.addr(), ctc)
	var stats quic.Stats
	if err == nil {
		err = fetchFiles(ctx, oursConn{c}, []uint64{64 << 10, 256 << 10, 1 << 20}, 700, 0)
		if err == nil {
			err = echo(ctx, oursConn{c}, 256<<10, 710)
		}
		stats = c.Stats()
		c.Close()
	}
	cancel()
	<-served
	// The last datagrams reach dumpcap's ring a moment after they are
	// sent: give it that moment, then stop it.
	time.Sleep(300 * time.Millisecond)
	stop()
	if err != nil {
		t.Fatal(err)
	}
	return port, stats
}
