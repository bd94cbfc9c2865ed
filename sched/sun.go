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
// (minutes) at unix second x.
func sunAt(x float64) (decl, eqTime float64) {
	jd := x/86400 + 2440587.5
	t := (jd - 2451545) / 36525 // Julian centuries since J2000
	l0 := math.Mod(280.46646+t*(36000.76983+t*0.0003032), 360) * deg
	m := (357.52911 + t*(35999.05029-0.0001537*t)) * deg
	e := 0.016708634 - t*(0.000042037+0.0000001267*t)
	c := math.Sin(m)*(1.914602-t*(0.004817+0.000014*t)) + math.Sin(2*m)*(0.019993-0.000101*t) + math.Sin(3*m)*0.000289
	omega := (125.04 - 1934.136*t) * deg
	lambda := l0 + (c-0.00569-0.00478*math.Sin(omega))*deg
	eps0 := 23 + (26+(21.448-t*(46.815+t*(0.00059-t*0.001813)))/60)/60
	eps := (eps0 + 0.00256*math.Cos(omega)) * deg
	decl = math.Asin(math.Sin(eps) * math.Sin(lambda))
	y := math.Tan(eps / 2)
	y *= y
	sin2l0, cos2l0 := math.Sincos(2 * l0)
	sinm := math.Sin(m)
	eqTime = 4 / deg * (y*sin2l0 - 2*e*sinm + 4*e*y*sinm*cos2l0 - 0.5*y*y*math.Sin(4*l0) - 1.25*e*e*math.Sin(2*m))
	return decl, eqTime
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
			decl, _ = sunAt(at)
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
