//go:build linux

package recipes_test

import (
	"database/sql"
	"embed"
	"fmt"
	"log"
	"os"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database/redshift"
	"github.com/golang-migrate/migrate/v4/source/iofs"

	_ "github.com/redshift-ka/redshift-ka/driver"
)

//go:embed migrations/*.sql
var migrations embed.FS

// golang-migrate's redshift driver on redshift-ka's *sql.DB, so that the
// migrations run with the DSN's keep-alive settings: Up applies both
// migrations in migrations/, Down undoes them.
func Example_migrate() {
	db, err := sql.Open("redshift-ka", os.Getenv("REDSHIFTKA_DSN"))
	if err != nil {
		log.Fatal(err)
	}
	target, err := redshift.WithInstance(db, &redshift.Config{})
	if err != nil {
		log.Fatal(err)
	}
	source, err := iofs.New(migrations, "migrations")
	if err != nil {
		log.Fatal(err)
	}
	m, err := migrate.NewWithInstance("iofs", source, "redshift", target)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close() // closes db as well

	if err := m.Up(); err != nil {
		log.Fatal(err)
	}
	version, dirty, err := m.Version()
	fmt.Println("version", version, "dirty", dirty)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO loads (id, name) VALUES (1, 'orders')`); err != nil {
		log.Fatal(err)
	}
	var rows int64
	if err := db.QueryRow(`SELECT row_count FROM loads WHERE id = 1`).Scan(&rows); err != nil {
		log.Fatal(err)
	}
	fmt.Println("row_count", rows)

	if err := m.Down(); err != nil {
		log.Fatal(err)
	}
	_, _, err = m.Version()
	fmt.Println(err)
	// Output:
	// version 2 dirty false
	// row_count 0
	// no migration
}
