module stevedore/benches/go

go 1.19
