package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// perfPeer is the server side of a perf run: in this process, or in a
// child process (-proc).
type perfPeer interface {
	addr() string
	// cpu returns the CPU time the peer used that this process's own
	// figure does not include: 0 in process.
	cpu() (time.Duration, error)
	// heap returns the live heap the peer holds that this process's own
	// figure does not include: 0 in process.
	heap() (uint64, error)
	// held returns the connections and streams a memory-mode server holds.
	held() (conns, streams int64, err error)
	close() error
}

// localPeer runs the server in this process.
type localPeer struct{ s *perfServer }

func (p localPeer) addr() string                { return p.s.addr() }
func (p localPeer) cpu() (time.Duration, error) { return 0, nil }
func (p localPeer) heap() (uint64, error)       { return 0, nil }
func (p localPeer) held() (int64, int64, error) { return p.s.conns.Load(), p.s.streams.Load(), nil }
func (p localPeer) close() error                { p.s.close(); return nil }

// childPeer runs the server in a child process: this program again, with
// the hidden perf-server command, driven over its stdin and stdout.
type childPeer struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	out     *bufio.Reader
	address string
}

func startChildPeer(mode string, maxStreams int64) (*childPeer, error) {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	args := []string{perfServerCommand, "-mode", mode, "-max-streams", strconv.FormatInt(maxStreams, 10)}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &childPeer{cmd: cmd, in: in, out: bufio.NewReader(out)}
	f, err := p.reply("ADDR", 1)
	if err != nil {
		p.close()
		return nil, fmt.Errorf("perf server process: %w", err)
	}
	p.address = f[0]
	return p, nil
}

// ask sends a command and reads the reply, "WORD field...".
func (p *childPeer) ask(cmd, word string, fields int) ([]string, error) {
	if _, err := fmt.Fprintln(p.in, cmd); err != nil {
		return nil, err
	}
	return p.reply(word, fields)
}

func (p *childPeer) reply(word string, fields int) ([]string, error) {
	line, err := p.out.ReadString('\n')
	if err != nil {
		return nil, err
	}
	f := strings.Fields(line)
	if len(f) != fields+1 || f[0] != word {
		return nil, fmt.Errorf("unexpected reply %q", strings.TrimSpace(line))
	}
	return f[1:], nil
}

func (p *childPeer) addr() string { return p.address }

func (p *childPeer) cpu() (time.Duration, error) {
	f, err := p.ask("cpu", "CPU", 1)
	if err != nil {
		return 0, err
	}
	ns, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0, err
	}
	if ns < 0 {
		return 0, errors.New("no CPU time on this platform")
	}
	return time.Duration(ns), nil
}

func (p *childPeer) heap() (uint64, error) {
	f, err := p.ask("heap", "HEAP", 1)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(f[0], 10, 64)
}

func (p *childPeer) held() (int64, int64, error) {
	f, err := p.ask("held", "HELD", 2)
	if err != nil {
		return 0, 0, err
	}
	c, err1 := strconv.ParseInt(f[0], 10, 64)
	s, err2 := strconv.ParseInt(f[1], 10, 64)
	return c, s, errors.Join(err1, err2)
}

// close closes the child's stdin, which makes it shut down, and waits.
func (p *childPeer) close() error {
	p.in.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		return <-done
	}
}
