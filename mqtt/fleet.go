package mqtt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Device is one device of a fleet as the broker retains it: its status,
// its info and, for a group, whether the roster lists it.
type Device struct {
	DeviceID string `json:"device_id"`
	// Status is "online" or "offline" (<root>/status), "" when the broker
	// holds none.
	Status string `json:"status"`
	// Member is false for a device that is not in the group's roster (it
	// answered a group command all the same).
	Member bool  `json:"member"`
	Info   *Info `json:"info,omitempty"` // nil when the broker holds no readable info
}

// Online reports whether the device's status is online.
func (d Device) Online() bool { return d.Status == "online" }

// Fleet returns the devices of a group (group set: its roster) or of the
// whole prefix (group "": every device with a retained status or info),
// sorted by device id, from the broker's retained messages.
func Fleet(ctx context.Context, cfg Config, group string) ([]Device, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if group != "" {
		if err := validLevel(group); err != nil {
			return nil, fmt.Errorf("group: %w", err)
		}
	}
	c, err := dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Disconnect(100)
	return fleet(ctx, c, cfg.Prefix, group)
}

func fleet(ctx context.Context, c paho.Client, prefix, group string) ([]Device, error) {
	var filters []string
	if group == "" {
		filters = []string{prefix + "/+/status", prefix + "/+/info"}
	} else {
		ids, err := roster(ctx, c, prefix, group)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			t := NewTopics(prefix, id)
			filters = append(filters, t.Status(), t.Info())
		}
	}
	got, err := retained(ctx, c, prefix, filters)
	if err != nil {
		return nil, err
	}
	byID := map[string]*Device{}
	get := func(id string) *Device {
		d := byID[id]
		if d == nil {
			d = &Device{DeviceID: id, Member: group != ""}
			byID[id] = d
		}
		return d
	}
	if group != "" { // every member, also one the broker holds nothing else of
		for _, f := range filters {
			get(strings.Split(strings.TrimPrefix(f, prefix+"/"), "/")[0])
		}
	}
	for topic, payload := range got {
		rest := strings.TrimPrefix(topic, prefix+"/")
		id, what, ok := strings.Cut(rest, "/")
		if !ok || validLevel(id) != nil {
			continue
		}
		switch what {
		case "status":
			get(id).Status = strings.TrimSpace(string(payload))
		case "info":
			var info Info
			if json.Unmarshal(payload, &info) == nil {
				get(id).Info = &info
			}
		}
	}
	out := make([]Device, 0, len(byID))
	for _, d := range byID {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DeviceID < out[j].DeviceID })
	return out, nil
}

// roster returns the device ids the roster of group lists.
func roster(ctx context.Context, c paho.Client, prefix, group string) ([]string, error) {
	t := Topics{Prefix: prefix}
	got, err := retained(ctx, c, prefix, []string{t.Member(group, "+")})
	if err != nil {
		return nil, err
	}
	var ids []string
	for topic := range got {
		if g, id, ok := t.memberFromTopic(topic); ok && g == group {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// retained returns the retained messages (non-empty) on filters: it
// subscribes, then publishes a marker to itself, which the broker delivers
// after the retained messages of the subscriptions before it. QoS 0: a
// snapshot needs no acknowledgements.
func retained(ctx context.Context, c paho.Client, prefix string, filters []string) (map[string][]byte, error) {
	if len(filters) == 0 {
		return map[string][]byte{}, nil
	}
	var mu sync.Mutex
	got := map[string][]byte{}
	keep := func(_ paho.Client, m paho.Message) {
		if m.Retained() && len(m.Payload()) > 0 {
			mu.Lock()
			got[m.Topic()] = append([]byte(nil), m.Payload()...)
			mu.Unlock()
		}
	}
	// Many filters go in several SUBSCRIBE packets: brokers cap a packet's size.
	const perPacket = 500
	for i := 0; i < len(filters); i += perPacket {
		part := make(map[string]byte, perPacket)
		for _, f := range filters[i:min(i+perPacket, len(filters))] {
			part[f] = 0
		}
		if err := wait(ctx, c.SubscribeMultiple(part, keep)); err != nil {
			return nil, fmt.Errorf("subscribe: %w", err)
		}
	}
	marker := prefix + "/~ctl/" + NewRequestID()
	done := make(chan struct{})
	var once sync.Once
	if err := subscribe(ctx, c, marker, 0, func(paho.Client, paho.Message) { once.Do(func() { close(done) }) }); err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", marker, err)
	}
	if err := wait(ctx, c.Publish(marker, 0, false, "x")); err != nil {
		return nil, fmt.Errorf("publish %s: %w", marker, err)
	}
	select {
	case <-done:
	case <-ctx.Done():
		return nil, errors.New("the broker did not return the retained messages in time: " + ctx.Err().Error())
	}
	c.Unsubscribe(marker)
	mu.Lock()
	defer mu.Unlock()
	return got, nil
}
