package browser

import (
	"context"
	"errors"
	"os"
	"os/exec"
)

// openURL starts the first browser launcher found, where there is a
// display (ODBC BrowserIdcAuthPlugin::OpenBrowser checks DISPLAY).
func openURL(_ context.Context, url string) error {
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return errors.New("no display (DISPLAY and WAYLAND_DISPLAY unset)")
	}
	for _, name := range []string{"xdg-open", "sensible-browser", "x-www-browser", "gnome-open"} {
		if path, err := exec.LookPath(name); err == nil {
			return start(exec.Command(path, url))
		}
	}
	return errors.New("none of xdg-open, sensible-browser, x-www-browser, gnome-open is installed")
}
