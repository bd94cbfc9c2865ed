// Package drivers links every actuator driver: import it for its side
// effect (each driver registers its name with package actuators).
package drivers

import (
	_ "github.com/edgecron/edgecron/actuators/pca9685" // pca9685
	_ "github.com/edgecron/edgecron/actuators/pwm"     // pwm
	_ "github.com/edgecron/edgecron/actuators/relay"   // gpio
	_ "github.com/edgecron/edgecron/actuators/sim"     // sim
)
