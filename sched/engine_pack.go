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
func packSpec(s TriggerSpec) string {
	b := make([]byte, 4, 64)
	var mask uint32
	str := func(bit uint, v string) {
		if v != "" {
			mask |= 1 << bit
			b = binary.AppendUvarint(b, uint64(len(v)))
			b = append(b, v...)
		}
	}
	num := func(bit uint, v float64) {
		if v != 0 || math.Signbit(v) {
			mask |= 1 << bit
			if v > 0 && v < 1<<53 && v == math.Trunc(v) {
				b = append(b, numWhole)
				b = binary.AppendUvarint(b, uint64(v))
				return
			}
			b = append(b, numBits)
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	if s.Type != "" {
		mask |= 1
		b = append(b, typeCode(s.Type))
		if b[len(b)-1] == typeOther {
			b = binary.AppendUvarint(b, uint64(len(s.Type)))
			b = append(b, s.Type...)
		}
	}
	str(1, s.RunDate)
	num(2, s.Weeks)
	num(3, s.Days)
	num(4, s.Hours)
	num(5, s.Minutes)
	num(6, s.Seconds)
	str(7, string(s.Year))
	str(8, string(s.Month))
	str(9, string(s.Day))
	str(10, string(s.Week))
	str(11, string(s.DayOfWeek))
	str(12, string(s.Hour))
	str(13, string(s.Minute))
	str(14, string(s.Second))
	str(15, s.Expr)
	str(16, s.StartDate)
	str(17, s.EndDate)
	num(18, s.Jitter)
	str(19, s.Timezone)
	num(20, s.Years)
	num(21, s.Months)
	str(22, s.Event)
	str(23, s.Twilight)
	str(24, s.Offset)
	str(25, s.Latitude)
	str(26, s.Longitude)
	str(27, s.Delay)
	str(28, s.Triggers.p)
	str(29, s.LastBootID)
	str(30, packReading(s))
	binary.LittleEndian.PutUint32(b, mask)
	return string(b)
}

// unpackSpec decodes what packSpec encoded.
func unpackSpec(p string) TriggerSpec {
	var s TriggerSpec
	if len(p) < 4 {
		return s
	}
	mask := uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24
	off := 4
	str := func(bit uint) string {
		if mask&(1<<bit) == 0 {
			return ""
		}
		n, k := uvarint(p[off:])
		off += k
		v := p[off : off+int(n)]
		off += int(n)
		return v
	}
	num := func(bit uint) float64 {
		if mask&(1<<bit) == 0 {
			return 0
		}
		off++
		if p[off-1] == numWhole {
			n, k := uvarint(p[off:])
			off += k
			return float64(n)
		}
		var u uint64
		for i := 7; i >= 0; i-- {
			u = u<<8 | uint64(p[off+i])
		}
		off += 8
		return math.Float64frombits(u)
	}
	if mask&1 != 0 {
		off++
		if c := p[off-1]; c != typeOther && int(c) <= len(triggerKinds) {
			s.Type = triggerKinds[c-1].name
		} else {
			s.Type = str(0)
		}
	}
	s.RunDate = str(1)
	s.Weeks = num(2)
	s.Days = num(3)
	s.Hours = num(4)
	s.Minutes = num(5)
	s.Seconds = num(6)
	s.Year = CronField(str(7))
	s.Month = CronField(str(8))
	s.Day = CronField(str(9))
	s.Week = CronField(str(10))
	s.DayOfWeek = CronField(str(11))
	s.Hour = CronField(str(12))
	s.Minute = CronField(str(13))
	s.Second = CronField(str(14))
	s.Expr = str(15)
	s.StartDate = str(16)
	s.EndDate = str(17)
	s.Jitter = num(18)
	s.Timezone = str(19)
	s.Years = num(20)
	s.Months = num(21)
	s.Event = str(22)
	s.Twilight = str(23)
	s.Offset = str(24)
	s.Latitude = str(25)
	s.Longitude = str(26)
	s.Delay = str(27)
	s.Triggers = Members{str(28)}
	s.LastBootID = str(29)
	unpackReading(str(30), &s)
	return s
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
