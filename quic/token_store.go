package quic

import (
	"container/list"
	"sync"
)

// TokenStore keeps NEW_TOKEN tokens (RFC 9000 §8.1.3) that servers gave a
// client, so that the client's next connection to the same server is
// validated without a Retry round trip. Share one among Dial calls through
// Config.TokenStore. It is safe for concurrent use.
type TokenStore struct {
	mu       sync.Mutex
	maxHosts int
	hosts    map[string]*list.Element // of *tokenHost
	lru      list.List                // front: most recently used
}

type tokenHost struct {
	key    string
	tokens [][]byte // newest last
}

// maxTokensPerHost bounds tokens kept per server: each is used once.
const maxTokensPerHost = 4

// NewTokenStore returns a store that remembers tokens for up to maxHosts
// servers, forgetting the least recently used.
func NewTokenStore(maxHosts int) *TokenStore {
	return &TokenStore{maxHosts: max(maxHosts, 1), hosts: make(map[string]*list.Element)}
}

// put remembers tok for server key.
func (s *TokenStore) put(key string, tok []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.hosts[key]
	if !ok {
		e = s.lru.PushFront(&tokenHost{key: key})
		s.hosts[key] = e
		if s.lru.Len() > s.maxHosts {
			old := s.lru.Back()
			s.lru.Remove(old)
			delete(s.hosts, old.Value.(*tokenHost).key)
		}
	}
	s.lru.MoveToFront(e)
	h := e.Value.(*tokenHost)
	h.tokens = append(h.tokens, append([]byte(nil), tok...))
	if len(h.tokens) > maxTokensPerHost {
		h.tokens = h.tokens[1:]
	}
}

// take removes and returns the newest token for server key, or nil.
// Tokens are used once (RFC 9000 §8.1.3 lets servers reject reuse).
func (s *TokenStore) take(key string) []byte {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.hosts[key]
	if !ok {
		return nil
	}
	h := e.Value.(*tokenHost)
	tok := h.tokens[len(h.tokens)-1]
	h.tokens = h.tokens[:len(h.tokens)-1]
	if len(h.tokens) == 0 {
		s.lru.Remove(e)
		delete(s.hosts, key)
	}
	return tok
}
