package http3

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// benchGet fetches url b.N times (in parallel when parallel is set) and
// checks the size of every body.
func benchGet(b *testing.B, size int, parallel bool) {
	e := newTestEnv(b, http.HandlerFunc(blobHandler))
	url := fmt.Sprintf("%s/blob/%d", e.url, size)
	client := e.client()
	get := func() error {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", url, nil)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && n != int64(size) {
			err = fmt.Errorf("%d bytes, want %d", n, size)
		}
		return err
	}
	if err := get(); err != nil { // connect first
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	if !parallel {
		for range b.N {
			if err := get(); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := get(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkGET1KB(b *testing.B)         { benchGet(b, 1<<10, false) }
func BenchmarkGET1KBParallel(b *testing.B) { benchGet(b, 1<<10, true) }
func BenchmarkGET5MB(b *testing.B)         { benchGet(b, 5<<20, false) }
