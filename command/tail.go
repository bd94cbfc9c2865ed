package command

import "unicode/utf8"

// tail is an io.Writer that keeps the last max bytes written to it and
// counts them all. It is written by one goroutine and read after that
// goroutine has finished, so it needs no lock.
type tail struct {
	max   int
	buf   []byte
	total int64
}

func newTail(max int) *tail { return &tail{max: max} }

func (t *tail) Write(p []byte) (int, error) {
	t.total += int64(len(p))
	if len(p) >= t.max {
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		return len(p), nil
	}
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max {
		// Compact now and then rather than on every write.
		n := copy(t.buf, t.buf[len(t.buf)-t.max:])
		t.buf = t.buf[:n]
	}
	return len(p), nil
}

// String returns the kept tail. When the output was truncated it starts at
// the first whole UTF-8 character, so the cut never splits one.
func (t *tail) String() string {
	b := t.buf
	if len(b) > t.max {
		b = b[len(b)-t.max:]
	}
	if t.truncated() {
		for i := 0; i < utf8.UTFMax-1 && len(b) > 0 && !utf8.RuneStart(b[0]); i++ {
			b = b[1:]
		}
	}
	return string(b)
}

func (t *tail) truncated() bool { return t.total > int64(t.max) }
