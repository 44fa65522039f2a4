package wire

// PathChallengeFrame is a PATH_CHALLENGE frame, RFC 9000 §19.17: 8 bytes
// of entropy the peer must echo in a PATH_RESPONSE.
type PathChallengeFrame struct {
	Data [8]byte
}

// Len returns the encoded length of a PATH_CHALLENGE frame: 9.
func (*PathChallengeFrame) Len() int { return 9 }

// Append appends f.
func (f *PathChallengeFrame) Append(b []byte) []byte {
	return append(append(b, byte(FrameTypePathChallenge)), f.Data[:]...)
}

// ParsePathChallengeFrame parses a PATH_CHALLENGE frame at the start of b.
func ParsePathChallengeFrame(b []byte) (PathChallengeFrame, int, error) {
	var f PathChallengeFrame
	n, err := parsePathData(b, FrameTypePathChallenge, &f.Data)
	return f, n, err
}

// PathResponseFrame is a PATH_RESPONSE frame, RFC 9000 §19.18: the data of
// a PATH_CHALLENGE, echoed.
type PathResponseFrame struct {
	Data [8]byte
}

// Len returns the encoded length of a PATH_RESPONSE frame: 9.
func (*PathResponseFrame) Len() int { return 9 }

// Append appends f.
func (f *PathResponseFrame) Append(b []byte) []byte {
	return append(append(b, byte(FrameTypePathResponse)), f.Data[:]...)
}

// ParsePathResponseFrame parses a PATH_RESPONSE frame at the start of b.
func ParsePathResponseFrame(b []byte) (PathResponseFrame, int, error) {
	var f PathResponseFrame
	n, err := parsePathData(b, FrameTypePathResponse, &f.Data)
	return f, n, err
}

// parsePathData reads the type t and 8 bytes of data into d.
func parsePathData(b []byte, t FrameType, d *[8]byte) (int, error) {
	if err := checkFrameType(b, t, "not a PATH_CHALLENGE or PATH_RESPONSE frame"); err != nil {
		return 0, err
	}
	if len(b) < 9 {
		*d = [8]byte{}
		return 0, frameError(FrameEncodingError, t, "truncated path data")
	}
	copy(d[:], b[1:9])
	return 9, nil
}
