//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package main

import "time"

// cpuTime is not available here: perf then prints NaN for CPU figures.
func cpuTime() (time.Duration, bool) { return 0, false }
