package audit

import "time"

// ParseTime reads an RFC 3339 timestamp. The layout audit events use
// (2006-01-02T15:04:05.000000Z, any number of fraction digits, UTC) is read
// by hand because it is the hottest call of a load; anything else goes to
// time.Parse(time.RFC3339Nano). It returns the zero Time when s is not a
// timestamp.
func ParseTime(s string) time.Time {
	if t, ok := parseUTC(s); ok {
		return t
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// parseUTC reads YYYY-MM-DDThh:mm:ss[.f{1,9}]Z; ok is false for any other
// shape or an out-of-range field, and the caller falls back to time.Parse.
// Straight-line code: no loop but the fraction's, one bounds check.
func parseUTC(s string) (time.Time, bool) {
	if len(s) < 20 || len(s) > 30 {
		return time.Time{}, false
	}
	_ = s[19]
	if s[len(s)-1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	// each digit minus '0': a byte that is no digit gives more than 9, so
	// more than 15 once 6 is added, and the OR of the sums tells
	y0, y1, y2, y3 := uint(s[0]-'0'), uint(s[1]-'0'), uint(s[2]-'0'), uint(s[3]-'0')
	mo0, mo1, d0, d1 := uint(s[5]-'0'), uint(s[6]-'0'), uint(s[8]-'0'), uint(s[9]-'0')
	h0, h1, mi0, mi1 := uint(s[11]-'0'), uint(s[12]-'0'), uint(s[14]-'0'), uint(s[15]-'0')
	s0, s1 := uint(s[17]-'0'), uint(s[18]-'0')
	if (y0+6)|(y1+6)|(y2+6)|(y3+6)|(mo0+6)|(mo1+6)|(d0+6)|(d1+6)|(h0+6)|(h1+6)|(mi0+6)|(mi1+6)|(s0+6)|(s1+6) > 15 {
		return time.Time{}, false
	}
	year := int(y0*1000 + y1*100 + y2*10 + y3)
	month, day := int(mo0*10+mo1), int(d0*10+d1)
	hour, min, sec := int(h0*10+h1), int(mi0*10+mi1), int(s0*10+s1)
	nsec := 0
	if len(s) > 20 {
		// a fraction: '.' then 1 to 9 digits, then 'Z'
		if s[19] != '.' || len(s) < 22 {
			return time.Time{}, false
		}
		n, ok := digits(s[20 : len(s)-1])
		if !ok {
			return time.Time{}, false
		}
		for i := len(s) - 21; i < 9; i++ {
			n *= 10
		}
		nsec = n
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || min > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Unix(unixDays(year, month, day)*86400+int64(hour*3600+min*60+sec), int64(nsec)).UTC(), true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int(c)
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// unixDays is the number of days from 1970-01-01 to the date (Howard
// Hinnant's days_from_civil).
func unixDays(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399 // floor division for years before 1 AD
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097 + doe - 719468)
}
