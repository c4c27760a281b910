//! `sentra-server`: runs the HTTP server, applies migrations, or loads demo data.

use std::process::ExitCode;

use sentra_server::{Config, config, demo};

const USAGE: &str = "usage: sentra-server [serve | migrate | seed-demo | rotate-data-key | help]

  serve            run the HTTP server (default)
  migrate          apply pending database migrations and exit
  seed-demo        load the demo data into an empty database and print the demo logins
  rotate-data-key  re-wrap every stored document key under SENTRA_DATA_KEY (SENTRA_DATA_KEY_ID);
                   the keys it replaces must be in SENTRA_DATA_KEYS_RETIRED until it is done
";

fn main() -> ExitCode {
    let command = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "serve".to_owned());
    if matches!(command.as_str(), "help" | "--help" | "-h") {
        print!("{USAGE}\nenvironment:\n");
        for (name, default, meaning) in config::VARIABLES {
            println!("  {name:<28} {meaning} [default: {default}]");
        }
        return ExitCode::SUCCESS;
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprint!("sentra-server: {err}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("sentra-server: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sentra-server: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: &str, config: Config) -> anyhow::Result<()> {
    sentra_server::telemetry::init(config.log_format, &config.log_filter)?;
    match command {
        "serve" => {
            let server = sentra_server::start(config).await?;
            tracing::info!(addr = %server.local_addr()?, version = env!("CARGO_PKG_VERSION"), "listening");
            server.serve(shutdown_signal()).await
        }
        "migrate" => {
            let db = sentra_server::db::connect(&config.database_url, 2).await?;
            sentra_server::MIGRATOR.run(&db).await?;
            println!("migrations applied");
            Ok(())
        }
        "seed-demo" => {
            let db = sentra_server::db::connect(&config.database_url, 2).await?;
            sentra_server::MIGRATOR.run(&db).await?;
            match demo::seed(&db).await? {
                demo::SeedOutcome::Seeded => println!("demo data loaded"),
                demo::SeedOutcome::AlreadyPresent => {
                    println!("demo data already present, kept as it is");
                }
            }
            print!("{}", demo::logins_table());
            Ok(())
        }
        "rotate-data-key" => {
            let db = sentra_server::db::connect(&config.database_url, 2).await?;
            sentra_server::MIGRATOR.run(&db).await?;
            let storage = sentra_server::storage::Storage::open(&config.storage)?;
            let vault = sentra_server::kyc::vault::Vault::new(&sentra_server::vault_keys(&config))?;
            let done =
                sentra_server::kyc::rotate::rotate_data_key(&db, &storage, &vault, &|so_far| {
                    eprint!(
                        "\rre-wrapped {}, re-encrypted {}, left for another run {}",
                        so_far.rewrapped, so_far.reencrypted, so_far.skipped
                    );
                })
                .await?;
            eprintln!();
            println!(
                "data key {}: re-wrapped {}, re-encrypted {}, changed meanwhile {}",
                vault.current_key_id(),
                done.rewrapped,
                done.reencrypted,
                done.skipped
            );
            if done.skipped > 0 {
                println!(
                    "some rows changed while rotating: run it again before retiring the old keys"
                );
            } else {
                println!("done: the retired keys can be removed from SENTRA_DATA_KEYS_RETIRED");
            }
            Ok(())
        }
        other => anyhow::bail!("unknown command {other:?}\n{USAGE}"),
    }
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
