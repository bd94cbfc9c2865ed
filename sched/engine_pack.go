package sched

import (
	"encoding/binary"
	"math"
)

// packSpec encodes a trigger spec into one string: a bit mask of the fields
// set, then each set field: the type as one byte when it is a known one,
// strings length-prefixed, whole numbers as a varint and others as float64
// bits. A scheduler holds thousands of specs that are mostly empty fields;
// packed, one costs its text plus a few bytes instead of the struct's 272,
// and unpacking it allocates nothing (the strings are substrings).
//
// Each field is tested here and encoded by a call, so that the encoder is
// compiled once rather than copied into every field's test (the copies
// cost the armv6 binary 23 KB with unpackSpec's; docs/footprint.md).
func packSpec(s TriggerSpec) string {
	b := make([]byte, 4, 64)
	var mask uint32
	if s.Type != "" {
		mask |= 1
		b = append(b, typeCode(s.Type))
		if b[len(b)-1] == typeOther {
			b = appendUvarintString(b, s.Type)
		}
	}
	if s.RunDate != "" {
		mask |= 1 << 1
		b = appendUvarintString(b, s.RunDate)
	}
	if s.Weeks != 0 || math.Signbit(s.Weeks) {
		mask |= 1 << 2
		b = appendNum(b, s.Weeks)
	}
	if s.Days != 0 || math.Signbit(s.Days) {
		mask |= 1 << 3
		b = appendNum(b, s.Days)
	}
	if s.Hours != 0 || math.Signbit(s.Hours) {
		mask |= 1 << 4
		b = appendNum(b, s.Hours)
	}
	if s.Minutes != 0 || math.Signbit(s.Minutes) {
		mask |= 1 << 5
		b = appendNum(b, s.Minutes)
	}
	if s.Seconds != 0 || math.Signbit(s.Seconds) {
		mask |= 1 << 6
		b = appendNum(b, s.Seconds)
	}
	if s.Year != "" {
		mask |= 1 << 7
		b = appendUvarintString(b, string(s.Year))
	}
	if s.Month != "" {
		mask |= 1 << 8
		b = appendUvarintString(b, string(s.Month))
	}
	if s.Day != "" {
		mask |= 1 << 9
		b = appendUvarintString(b, string(s.Day))
	}
	if s.Week != "" {
		mask |= 1 << 10
		b = appendUvarintString(b, string(s.Week))
	}
	if s.DayOfWeek != "" {
		mask |= 1 << 11
		b = appendUvarintString(b, string(s.DayOfWeek))
	}
	if s.Hour != "" {
		mask |= 1 << 12
		b = appendUvarintString(b, string(s.Hour))
	}
	if s.Minute != "" {
		mask |= 1 << 13
		b = appendUvarintString(b, string(s.Minute))
	}
	if s.Second != "" {
		mask |= 1 << 14
		b = appendUvarintString(b, string(s.Second))
	}
	if s.Expr != "" {
		mask |= 1 << 15
		b = appendUvarintString(b, s.Expr)
	}
	if s.StartDate != "" {
		mask |= 1 << 16
		b = appendUvarintString(b, s.StartDate)
	}
	if s.EndDate != "" {
		mask |= 1 << 17
		b = appendUvarintString(b, s.EndDate)
	}
	if s.Jitter != 0 || math.Signbit(s.Jitter) {
		mask |= 1 << 18
		b = appendNum(b, s.Jitter)
	}
	if s.Timezone != "" {
		mask |= 1 << 19
		b = appendUvarintString(b, s.Timezone)
	}
	if s.Years != 0 || math.Signbit(s.Years) {
		mask |= 1 << 20
		b = appendNum(b, s.Years)
	}
	if s.Months != 0 || math.Signbit(s.Months) {
		mask |= 1 << 21
		b = appendNum(b, s.Months)
	}
	if s.Event != "" {
		mask |= 1 << 22
		b = appendUvarintString(b, s.Event)
	}
	if s.Twilight != "" {
		mask |= 1 << 23
		b = appendUvarintString(b, s.Twilight)
	}
	if s.Offset != "" {
		mask |= 1 << 24
		b = appendUvarintString(b, s.Offset)
	}
	if s.Latitude != "" {
		mask |= 1 << 25
		b = appendUvarintString(b, s.Latitude)
	}
	if s.Longitude != "" {
		mask |= 1 << 26
		b = appendUvarintString(b, s.Longitude)
	}
	if s.Delay != "" {
		mask |= 1 << 27
		b = appendUvarintString(b, s.Delay)
	}
	if s.Triggers.p != "" {
		mask |= 1 << 28
		b = appendUvarintString(b, s.Triggers.p)
	}
	if s.LastBootID != "" {
		mask |= 1 << 29
		b = appendUvarintString(b, s.LastBootID)
	}
	if r := packReading(s); r != "" {
		mask |= 1 << 30
		b = appendUvarintString(b, r)
	}
	binary.LittleEndian.PutUint32(b, mask)
	return string(b)
}

// appendNum appends a number: a whole number as a varint, another as its
// float64 bits.
//
//go:noinline
func appendNum(b []byte, v float64) []byte {
	if v > 0 && v < 1<<53 && v == math.Trunc(v) {
		b = append(b, numWhole)
		return binary.AppendUvarint(b, uint64(v))
	}
	b = append(b, numBits)
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

// unpackSpec decodes what packSpec encoded, testing each field's bit here
// and decoding by a call, as packSpec encodes.
func unpackSpec(p string) TriggerSpec {
	var s TriggerSpec
	if len(p) < 4 {
		return s
	}
	mask := uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24
	u := unpacker{p: p, off: 4}
	if mask&1 != 0 {
		u.off++
		if c := p[u.off-1]; c != typeOther && int(c) <= len(triggerKinds) {
			s.Type = triggerKinds[c-1].name
		} else {
			s.Type = u.str()
		}
	}
	if mask&(1<<1) != 0 {
		s.RunDate = u.str()
	}
	if mask&(1<<2) != 0 {
		s.Weeks = u.num()
	}
	if mask&(1<<3) != 0 {
		s.Days = u.num()
	}
	if mask&(1<<4) != 0 {
		s.Hours = u.num()
	}
	if mask&(1<<5) != 0 {
		s.Minutes = u.num()
	}
	if mask&(1<<6) != 0 {
		s.Seconds = u.num()
	}
	if mask&(1<<7) != 0 {
		s.Year = CronField(u.str())
	}
	if mask&(1<<8) != 0 {
		s.Month = CronField(u.str())
	}
	if mask&(1<<9) != 0 {
		s.Day = CronField(u.str())
	}
	if mask&(1<<10) != 0 {
		s.Week = CronField(u.str())
	}
	if mask&(1<<11) != 0 {
		s.DayOfWeek = CronField(u.str())
	}
	if mask&(1<<12) != 0 {
		s.Hour = CronField(u.str())
	}
	if mask&(1<<13) != 0 {
		s.Minute = CronField(u.str())
	}
	if mask&(1<<14) != 0 {
		s.Second = CronField(u.str())
	}
	if mask&(1<<15) != 0 {
		s.Expr = u.str()
	}
	if mask&(1<<16) != 0 {
		s.StartDate = u.str()
	}
	if mask&(1<<17) != 0 {
		s.EndDate = u.str()
	}
	if mask&(1<<18) != 0 {
		s.Jitter = u.num()
	}
	if mask&(1<<19) != 0 {
		s.Timezone = u.str()
	}
	if mask&(1<<20) != 0 {
		s.Years = u.num()
	}
	if mask&(1<<21) != 0 {
		s.Months = u.num()
	}
	if mask&(1<<22) != 0 {
		s.Event = u.str()
	}
	if mask&(1<<23) != 0 {
		s.Twilight = u.str()
	}
	if mask&(1<<24) != 0 {
		s.Offset = u.str()
	}
	if mask&(1<<25) != 0 {
		s.Latitude = u.str()
	}
	if mask&(1<<26) != 0 {
		s.Longitude = u.str()
	}
	if mask&(1<<27) != 0 {
		s.Delay = u.str()
	}
	if mask&(1<<28) != 0 {
		s.Triggers = Members{u.str()}
	}
	if mask&(1<<29) != 0 {
		s.LastBootID = u.str()
	}
	if mask&(1<<30) != 0 {
		unpackReading(u.str(), &s)
	}
	return s
}

// unpacker reads packSpec's fields from p at off.
type unpacker struct {
	p   string
	off int
}

// str reads a length-prefixed string.
//
//go:noinline
func (u *unpacker) str() string {
	n, k := uvarint(u.p[u.off:])
	u.off += k
	v := u.p[u.off : u.off+int(n)]
	u.off += int(n)
	return v
}

// num reads a number.
//
//go:noinline
func (u *unpacker) num() float64 {
	u.off++
	if u.p[u.off-1] == numWhole {
		n, k := uvarint(u.p[u.off:])
		u.off += k
		return float64(n)
	}
	var x uint64
	for i := 7; i >= 0; i-- {
		x = x<<8 | uint64(u.p[u.off+i])
	}
	u.off += 8
	return math.Float64frombits(x)
}

// Codes of packSpec's encoding.
const (
	numBits  = 0 // float64 bits follow
	numWhole = 1 // a uvarint follows

	typeOther = 0 // the type as a string follows; else 1 + its registry index
)

func typeCode(t string) byte {
	if i := kindIndex(t); i >= 0 {
		return byte(1 + i)
	}
	return typeOther
}

// appendUvarintString appends v, length-prefixed.
//
//go:noinline
func appendUvarintString(b []byte, v string) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// uvarint is binary.Uvarint on a string, without converting it.
func uvarint(p string) (uint64, int) {
	var x uint64
	var s uint
	for i := 0; i < len(p) && i < binary.MaxVarintLen64; i++ {
		c := p[i]
		if c < 0x80 {
			return x | uint64(c)<<s, i + 1
		}
		x |= uint64(c&0x7f) << s
		s += 7
	}
	return 0, len(p)
}

// readingFields are the reading trigger's fields, packed together under
// one bit of packSpec's mask.
func readingFields(s *TriggerSpec) [10]*string {
	return [10]*string{&s.Sensor, &s.Value, &s.Above, &s.Below, &s.Hysteresis, &s.Change, &s.Edge, &s.Level, &s.For, &s.Cooldown}
}

// packReading packs the reading fields, each length-prefixed; "" when
// none is set.
func packReading(s TriggerSpec) string {
	fs := readingFields(&s)
	set := false
	for _, f := range fs {
		set = set || *f != ""
	}
	if !set {
		return ""
	}
	var b []byte
	for _, f := range fs {
		b = appendUvarintString(b, *f)
	}
	return string(b)
}

// unpackReading is the reverse of packReading.
func unpackReading(p string, s *TriggerSpec) {
	for _, f := range readingFields(s) {
		if p == "" {
			return
		}
		n, k := uvarint(p)
		*f = p[k : k+int(n)]
		p = p[k+int(n):]
	}
}
