package mqtt

import (
	"context"
	"errors"
	"fmt"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// dial connects a short-lived client (ctl, fleet status) with a clean
// session and a random client id, trying the brokers of cfg in order
// until one accepts.
func dial(ctx context.Context, cfg Config) (paho.Client, error) {
	if !cfg.Enabled() {
		return nil, errors.New("mqtt.broker: required")
	}
	pw, err := cfg.password()
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, b := range cfg.URLs() {
		o := paho.NewClientOptions().AddBroker(b).SetClientID(NewRequestID()).
			SetCleanSession(true).SetConnectTimeout(connectTimeout).SetAutoReconnect(false).
			SetOrderMatters(true).SetProtocolVersion(4)
		if cfg.Username != "" {
			o.SetUsername(cfg.Username)
		}
		if pw != "" {
			o.SetPassword(pw)
		}
		tc, err := cfg.tlsConfig(b)
		if err != nil {
			return nil, err
		}
		if tc != nil {
			o.SetTLSConfig(tc)
		}
		c := paho.NewClient(o)
		if err := wait(ctx, c.Connect()); err != nil {
			errs = append(errs, fmt.Errorf("connect %s: %w", BrokerName(b), err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		return c, nil
	}
	return nil, errors.Join(errs...)
}
