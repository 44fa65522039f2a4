package udpio

import "fmt"

// BufferWarning returns a line to show the user once when the OS granted
// smaller socket buffers than asked for (bulk transfers then lose datagrams
// in bursts), or "" when the buffers are as asked or their size is unknown.
func (f Features) BufferWarning() string {
	if f.BufferTarget <= 0 || f.RecvBuffer <= 0 || f.SendBuffer <= 0 {
		return ""
	}
	if f.RecvBuffer >= f.BufferTarget && f.SendBuffer >= f.BufferTarget {
		return ""
	}
	msg := fmt.Sprintf("udpio: socket buffers are %d KiB receive and %d KiB send, %d KiB wanted",
		f.RecvBuffer>>10, f.SendBuffer>>10, f.BufferTarget>>10)
	if bufferHint != "" {
		msg += "; " + bufferHint
	}
	return msg
}
