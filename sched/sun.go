package sched

import "math"

// Sun arithmetic: the NOAA solar calculator's equations (NOAA Global
// Monitoring Laboratory, "General Solar Position Calculations", after Jean
// Meeus, Astronomical Algorithms), pure functions on plain numbers.
// Accurate to well within a minute for latitudes up to ±65°, which
// TestSunAgainstAstral checks against an independent implementation.

// Zenith angles, in degrees, of the sun's centre at the events: sunrise
// and sunset allow for refraction and the sun's radius (the sun's upper
// edge on the horizon); dawn and dusk are the twilights.
const (
	zenithSunrise      = 90.833
	zenithCivil        = 96
	zenithNautical     = 102
	zenithAstronomical = 108
)

const deg = math.Pi / 180

// sunAt returns the sun's declination (radians) and the equation of time
// (minutes) at unix second x. Multiple angles (2M, 3M, 4L0) come from
// double- and triple-angle identities rather than more calls of math.Sin:
// the same values, in about half the time.
func sunAt(x float64) (decl, eqTime float64) {
	st := sunTermsAt(x)
	e := 0.016708634 - st.t*(0.000042037+0.0000001267*st.t)
	sin2l0, cos2l0 := math.Sincos(2 * st.l0)
	sin4l0 := 2 * sin2l0 * cos2l0
	sin2m := 2 * st.sinm * st.cosm
	y := (1 - st.cosEps) / (1 + st.cosEps) // tan²(ε/2)
	eqTime = 4 / deg * (y*sin2l0 - 2*e*st.sinm + 4*e*y*st.sinm*cos2l0 - 0.5*y*y*sin4l0 - 1.25*e*e*sin2m)
	return st.decl(), eqTime
}

// declAt returns the sun's declination (radians) at unix second x.
func declAt(x float64) float64 { return sunTermsAt(x).decl() }

// sunTerms are the quantities both the declination and the equation of
// time start from.
type sunTerms struct {
	t              float64 // Julian centuries since J2000
	l0             float64 // geometric mean longitude (radians)
	sinm, cosm     float64 // of the mean anomaly M
	sinEps, cosEps float64 // of the corrected obliquity of the ecliptic ε
	nutation       float64 // aberration and nutation in longitude (degrees)
}

func sunTermsAt(x float64) sunTerms {
	jd := x/86400 + 2440587.5
	t := (jd - 2451545) / 36525
	var st sunTerms
	st.t = t
	st.l0 = math.Mod(280.46646+t*(36000.76983+t*0.0003032), 360) * deg
	st.sinm, st.cosm = math.Sincos((357.52911 + t*(35999.05029-0.0001537*t)) * deg)
	sinOmega, cosOmega := math.Sincos((125.04 - 1934.136*t) * deg)
	st.nutation = -0.00569 - 0.00478*sinOmega
	eps0 := 23 + (26+(21.448-t*(46.815+t*(0.00059-t*0.001813)))/60)/60
	st.sinEps, st.cosEps = math.Sincos((eps0 + 0.00256*cosOmega) * deg)
	return st
}

// decl returns the declination: the equation of the centre C gives the
// true longitude, the nutation the apparent one λ; sin δ = sin ε sin λ.
func (st sunTerms) decl() float64 {
	t, s1 := st.t, st.sinm
	s2 := 2 * s1 * st.cosm
	s3 := s1 * (3 - 4*s1*s1)
	c := s1*(1.914602-t*(0.004817+0.000014*t)) + s2*(0.019993-0.000101*t) + s3*0.000289
	lambda := st.l0 + (c+st.nutation)*deg
	return math.Asin(st.sinEps * math.Sin(lambda))
}

// solarNoon returns the unix second of the sun's transit nearest to unix
// second near, at longitude lon (degrees, east positive), and the sun's
// declination then (radians).
func solarNoon(near, lon float64) (noon, decl float64) {
	day := math.Floor(near/86400) * 86400 // UTC midnight
	switch approx := day + (720-4*lon)*60; {
	case approx-near > 43200:
		day -= 86400
	case near-approx > 43200:
		day += 86400
	}
	// One pass: the equation of time changes by under a second in the
	// minutes between the estimate and the transit.
	decl, eq := sunAt(day + (720-4*lon)*60)
	return day + (720-4*lon-eq)*60, decl
}

// sunEvent returns the unix second at which the sun's centre crosses the
// zenith angle zen (degrees) on the day of the transit noon, at latitude
// lat (degrees): before noon when rising, after it otherwise. decl is the
// sun's declination at noon. ok is false when it does not cross it that
// day (polar day or night).
func sunEvent(noon, decl, lat, zen float64, rising bool) (float64, bool) {
	sign := 1.0
	if rising {
		sign = -1
	}
	at := noon
	cosZen := math.Cos(zen * deg)
	sinLat, cosLat := math.Sincos(lat * deg)
	// Two passes: the first with the sun at noon, the second with the sun
	// at the first pass's event.
	for pass := 0; pass < 2; pass++ {
		if pass > 0 {
			decl = declAt(at)
		}
		sinD, cosD := math.Sincos(decl)
		cosHA := (cosZen - sinLat*sinD) / (cosLat * cosD)
		if cosHA < -1 || cosHA > 1 || math.IsNaN(cosHA) {
			return 0, false
		}
		at = noon + sign*math.Acos(cosHA)/deg*240 // 4 minutes a degree
	}
	return at, true
}
