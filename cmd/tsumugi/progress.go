package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress is the byte counter get shows on a terminal.
type progress struct {
	bar *progressbar.ProgressBar
}

// newProgress returns a progress display on w if w is a terminal, else
// nil: output that goes to a file or a pipe stays clean.
func newProgress(w io.Writer, files int) *progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	bar := progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(fmt.Sprintf("fetching %d file(s)", files)),
		progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionClearOnFinish(),
	)
	return &progress{bar: bar}
}

// add counts n more bytes received; safe for concurrent use.
func (p *progress) add(n int) {
	p.bar.Add(n)
}

func (p *progress) finish() {
	p.bar.Finish()
}
