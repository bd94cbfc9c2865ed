package sched

// Proleptic Gregorian calendar arithmetic on plain integers: the cron search
// works on wall-clock fields and converts to an instant once, at the end.

// daysFromCivil returns the number of days from 1970-01-01 to y-m-d.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(int64(y), 400)
	yoe := int64(y) - era*400 // [0, 399]
	mp := int64(m+9) % 12     // March = 0
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}

// weekdayOfDays returns the weekday of a day number, 0 = Monday.
func weekdayOfDays(z int64) int {
	// 1970-01-01 was a Thursday (3).
	return int(floorMod(z+3, 7))
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// isoWeek returns the ISO week number of the day number z.
func isoWeek(z int64) int {
	// The Thursday of z's week decides its ISO year.
	thu := z - int64(weekdayOfDays(z)) + 3
	ty, _, _ := civilFromDays(thu)
	return int((thu-daysFromCivil(ty, 1, 1))/7) + 1
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// wallSeconds returns the wall-clock reading y-m-d h:mi:s as seconds since
// 1970-01-01 00:00:00.
func wallSeconds(y, m, d, h, mi, s int) int64 {
	return daysFromCivil(y, m, d)*86400 + int64(h*3600+mi*60+s)
}
