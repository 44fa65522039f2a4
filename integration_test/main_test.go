package integration_test

import (
	"flag"
	"runtime"
	"strconv"
	"testing"

	"go.uber.org/goleak"
)

// minParallel is how many parallel subtests run at once unless -parallel
// says otherwise. The transfers through the impairment proxy spend most of
// their time waiting on timers (loss recovery, ack delays, blackholes), so
// the default of GOMAXPROCS would leave a 2-core machine mostly idle.
const minParallel = 4

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit && runtime.GOMAXPROCS(0) < minParallel {
		flag.Set("test.parallel", strconv.Itoa(minParallel))
	}
	goleak.VerifyTestMain(m)
}
