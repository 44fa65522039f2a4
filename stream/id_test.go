package stream

import "testing"

func TestIDType(t *testing.T) {
	tests := []struct {
		id                   ID
		typ                  Type
		client, bidi         bool
		num                  uint64
		name                 string
		clientSend, clientRc bool // what the client may do
		serverSend, serverRc bool
	}{
		{0, ClientBidi, true, true, 0, "client-bidi", true, true, true, true},
		{1, ServerBidi, false, true, 0, "server-bidi", true, true, true, true},
		{2, ClientUni, true, false, 0, "client-uni", true, false, false, true},
		{3, ServerUni, false, false, 0, "server-uni", false, true, true, false},
		{4, ClientBidi, true, true, 1, "client-bidi", true, true, true, true},
		{4*1000 + 3, ServerUni, false, false, 1000, "server-uni", false, true, true, false},
		{1<<62 - 1, ServerUni, false, false, 1<<60 - 1, "server-uni", false, true, true, false},
	}
	for _, tt := range tests {
		if got := tt.id.Type(); got != tt.typ {
			t.Errorf("ID(%d).Type() = %v, want %v", tt.id, got, tt.typ)
		}
		if got := tt.id.IsClientInitiated(); got != tt.client {
			t.Errorf("ID(%d).IsClientInitiated() = %v", tt.id, got)
		}
		if tt.id.IsBidi() != tt.bidi || tt.id.IsUni() == tt.bidi {
			t.Errorf("ID(%d) bidi/uni wrong", tt.id)
		}
		if got := tt.id.Num(); got != tt.num {
			t.Errorf("ID(%d).Num() = %d, want %d", tt.id, got, tt.num)
		}
		if got := IDFor(tt.typ, tt.num); got != tt.id {
			t.Errorf("IDFor(%v, %d) = %d, want %d", tt.typ, tt.num, got, tt.id)
		}
		if got := CountFor(tt.id); got != tt.num+1 {
			t.Errorf("CountFor(%d) = %d", tt.id, got)
		}
		if got := tt.typ.String(); got != tt.name {
			t.Errorf("%d.String() = %q, want %q", tt.typ, got, tt.name)
		}
		typ := tt.typ
		if typ.CanSend(true) != tt.clientSend || typ.CanReceive(true) != tt.clientRc ||
			typ.CanSend(false) != tt.serverSend || typ.CanReceive(false) != tt.serverRc {
			t.Errorf("%v: CanSend/CanReceive wrong", typ)
		}
		if typ.Local(true) != tt.client || typ.Local(false) == tt.client {
			t.Errorf("%v: Local wrong", typ)
		}
	}
	if s := ID(4).String(); s != "4" {
		t.Errorf("ID(4).String() = %q", s)
	}
	if got := CountFor(IDFor(ClientUni, MaxCount-1)); got != MaxCount {
		t.Errorf("CountFor(last stream) = %d", got)
	}
}

func TestNewHalves(t *testing.T) {
	tests := []struct {
		id               ID
		isClient         bool
		bidi, send, recv bool
	}{
		{0, true, true, true, true},
		{0, false, true, true, true},
		{1, true, true, true, true},
		{2, true, false, true, false},
		{2, false, false, false, true},
		{3, true, false, false, true},
		{3, false, false, true, false},
	}
	for _, tt := range tests {
		c := New(tt.id, tt.isClient, &testOwner{}, Config{})
		if (c.Stream() != nil) != tt.bidi || (c.SendStream() != nil) != tt.send || (c.ReceiveStream() != nil) != tt.recv {
			t.Errorf("New(%d, client=%v): halves wrong", tt.id, tt.isClient)
		}
		if c.StreamID() != uint64(tt.id) || c.ID() != tt.id {
			t.Errorf("New(%d): ID wrong", tt.id)
		}
		if u, inc := c.Priority(); u != 3 || inc {
			t.Errorf("default priority = %d, %v", u, inc)
		}
	}
}
