// Package rangeset holds a set of uint64 values as sorted, disjoint,
// non-adjacent half-open ranges [Start, End). Streams use it for received and
// acknowledged byte ranges; the connection uses it for packet numbers.
//
// Ranges are kept in a slice in ascending order. Adding at or after the end
// (the common case for in-order data and packet numbers) costs O(1); other
// updates cost O(log n) to find the place plus the copy to open or close a gap.
package rangeset

// Range is the half-open interval [Start, End).
type Range struct {
	Start, End uint64
}

// Len returns the number of values in r.
func (r Range) Len() uint64 { return r.End - r.Start }

// Set is a set of uint64 values. The zero value is empty and ready to use.
// A Set is not safe for concurrent use.
type Set struct {
	r []Range
}

// Add adds [start, end) to the set. Empty ranges are ignored.
func (s *Set) Add(start, end uint64) {
	if start >= end {
		return
	}
	n := len(s.r)
	// Fast paths: append to, or extend, the last range.
	if n == 0 || start > s.r[n-1].End {
		s.r = append(s.r, Range{start, end})
		return
	}
	if start >= s.r[n-1].Start {
		if end > s.r[n-1].End {
			s.r[n-1].End = end
		}
		return
	}
	// i: first range whose End >= start (it touches or follows [start,end)).
	i := s.search(start)
	// j: first range whose Start > end (it follows without touching).
	j := i
	for j < n && s.r[j].Start <= end {
		j++
	}
	if i == j {
		// No overlap: insert at i.
		s.r = append(s.r, Range{})
		copy(s.r[i+1:], s.r[i:])
		s.r[i] = Range{start, end}
		return
	}
	// Merge ranges i..j-1 with [start,end).
	if s.r[i].Start < start {
		start = s.r[i].Start
	}
	if s.r[j-1].End > end {
		end = s.r[j-1].End
	}
	s.r[i] = Range{start, end}
	s.r = append(s.r[:i+1], s.r[j:]...)
}

// Remove removes [start, end) from the set.
func (s *Set) Remove(start, end uint64) {
	if start >= end {
		return
	}
	i := s.search(start + 1) // first range with End > start
	for i < len(s.r) && s.r[i].Start < end {
		r := s.r[i]
		switch {
		case r.Start >= start && r.End <= end:
			// Entirely removed.
			s.r = append(s.r[:i], s.r[i+1:]...)
			continue
		case r.Start < start && r.End > end:
			// Split in two.
			s.r = append(s.r, Range{})
			copy(s.r[i+2:], s.r[i+1:])
			s.r[i] = Range{r.Start, start}
			s.r[i+1] = Range{end, r.End}
			return
		case r.Start < start:
			s.r[i].End = start
		default:
			s.r[i].Start = end
		}
		i++
	}
}

// RemoveBelow removes every value below v.
func (s *Set) RemoveBelow(v uint64) {
	i := 0
	for i < len(s.r) && s.r[i].End <= v {
		i++
	}
	if i > 0 {
		s.r = append(s.r[:0], s.r[i:]...)
	}
	if len(s.r) > 0 && s.r[0].Start < v {
		s.r[0].Start = v
	}
}

// RemoveFirst removes the lowest range; it does nothing on an empty set.
func (s *Set) RemoveFirst() {
	if len(s.r) > 0 {
		s.r = append(s.r[:0], s.r[1:]...)
	}
}

// Contains reports whether v is in the set.
func (s *Set) Contains(v uint64) bool {
	i := s.search(v + 1)
	return i < len(s.r) && s.r[i].Start <= v
}

// ContainsRange reports whether all of [start, end) is in the set.
func (s *Set) ContainsRange(start, end uint64) bool {
	if start >= end {
		return true
	}
	i := s.search(start + 1)
	return i < len(s.r) && s.r[i].Start <= start && s.r[i].End >= end
}

// search returns the index of the first range whose End >= v.
func (s *Set) search(v uint64) int {
	lo, hi := 0, len(s.r)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.r[m].End < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// NumRanges returns the number of disjoint ranges.
func (s *Set) NumRanges() int { return len(s.r) }

// Range returns the i-th range in ascending order.
func (s *Set) Range(i int) Range { return s.r[i] }

// Empty reports whether the set holds no values.
func (s *Set) Empty() bool { return len(s.r) == 0 }

// Min returns the smallest value; the set must not be empty.
func (s *Set) Min() uint64 { return s.r[0].Start }

// Max returns the largest value; the set must not be empty.
func (s *Set) Max() uint64 { return s.r[len(s.r)-1].End - 1 }

// End returns one past the largest value, or 0 for an empty set.
func (s *Set) End() uint64 {
	if len(s.r) == 0 {
		return 0
	}
	return s.r[len(s.r)-1].End
}

// Clear empties the set, keeping its storage.
func (s *Set) Clear() { s.r = s.r[:0] }
