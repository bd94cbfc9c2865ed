// Package drivers links every sensor driver: import it for its side effect
// (each driver registers its name with package sensors).
package drivers

import (
	_ "github.com/edgecron/edgecron/sensors/ads1115" // ads1115
	_ "github.com/edgecron/edgecron/sensors/bme280"  // bme280, bmp280
	_ "github.com/edgecron/edgecron/sensors/cputemp" // cpu-temp
	_ "github.com/edgecron/edgecron/sensors/ds18b20" // ds18b20
	_ "github.com/edgecron/edgecron/sensors/gpio"    // gpio
	_ "github.com/edgecron/edgecron/sensors/i2creg"  // i2c-register
	_ "github.com/edgecron/edgecron/sensors/sim"     // sim
)
