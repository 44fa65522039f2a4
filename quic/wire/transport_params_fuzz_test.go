package wire

import (
	"reflect"
	"testing"
)

func FuzzParseTransportParameters(f *testing.F) {
	server := fullServerParams()
	f.Add(server.Append(nil, true), true)
	f.Add(server.Append(nil, false), false)
	def := DefaultTransportParameters()
	def.InitialSourceConnectionID = []byte{}
	f.Add(def.Append(nil, false), false)
	f.Add(concat(tp(27, []byte("grease")), tp(tpInitialSourceConnectionID, []byte{1})), false)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, b []byte, fromServer bool) {
		p, err := ParseTransportParameters(b, fromServer)
		if err != nil {
			return
		}
		out := p.Append(nil, fromServer)
		p2, err := ParseTransportParameters(out, fromServer)
		if err != nil {
			t.Fatalf("re-encoded parameters do not parse: %v\n%x", err, out)
		}
		if !reflect.DeepEqual(p, p2) {
			t.Fatalf("round trip:\n%+v\n%+v", p, p2)
		}
	})
}
