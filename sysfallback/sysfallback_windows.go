package sysfallback

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/windows/registry"
)

const tcpipParameters = `SYSTEM\CurrentControlSet\Services\Tcpip\Parameters`

func read() (Values, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, tcpipParameters, registry.QUERY_VALUE)
	if err != nil {
		return Values{}, fmt.Errorf(`redshift-ka: open registry key HKLM\%s: %w`, tcpipParameters, err)
	}
	defer k.Close()
	v := Values{Count: 10, CountFrom: "default (Windows sends 10 probes)"}
	v.Idle, v.IdleFrom, err = regMillis(k, "KeepAliveTime", 7200000)
	if err != nil {
		return Values{}, err
	}
	v.Interval, v.IntervalFrom, err = regMillis(k, "KeepAliveInterval", 1000)
	if err != nil {
		return Values{}, err
	}
	return v, nil
}

// regMillis reads a DWORD of milliseconds, or gives def when it is absent.
func regMillis(k registry.Key, name string, def uint64) (time.Duration, string, error) {
	from := `registry HKLM\` + tcpipParameters + `\` + name
	n, _, err := k.GetIntegerValue(name)
	if errors.Is(err, registry.ErrNotExist) {
		n, from = def, "default (registry value "+name+" absent)"
	} else if err != nil {
		return 0, "", fmt.Errorf("redshift-ka: read %s: %w", from, err)
	}
	return time.Duration(n) * time.Millisecond, from, nil
}
