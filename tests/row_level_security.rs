//! PostgreSQL's row-level security, the second wall between tenants
//! (`src/store/rls.rs`): what the service's own database role sees when a
//! statement forgets its tenant filter, and the warnings an install gets
//! when the wall is down.
mod common;

mod postgres_only {
    use std::io::{BufRead, BufReader};

    use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait};
    use serde_json::{Value, json};

    use super::common::{
        TestServer,
        process::{free_port, spawn_botmem_logging, wait_up},
        require_postgres,
    };

    use migration::TENANT_TABLES;

    /// The tables whose policy also lets housekeeping (`*`) through.
    const HOUSEKEEPING_TABLES: [&str; 2] = ["tenants", "event_outbox"];

    /// Puts a row of `tenant` in every tenant table, through the API.
    async fn populate(s: &TestServer, tenant: &str) {
        let token = s.admin(tenant);
        let bot = s.create_bot(&token, "bot").await;
        let conversation = s.start_conversation(&token, &bot, "u1").await;
        let user = conversation["user"]["id"].as_str().unwrap();
        let conversation = conversation["id"].as_str().unwrap();
        // Too large for one NOTIFY: its event goes through event_outbox.
        let large = "x".repeat(10_000);
        let set = "mutation($i: SetVariableInput!) { setVariable(input: $i) { version } }";
        let user_ref = json!({ "scope": "USER", "userId": user });
        s.ok(
            &token,
            set,
            json!({ "i": { "ref": user_ref, "name": "note", "value": large } }),
        )
        .await;
        s.ok(
            &token,
            "mutation($c: UUID!) { appendMessage(conversationId: $c, input: { direction: INCOMING, text: \"hi\" }) { id } }",
            json!({ "c": conversation }),
        )
        .await;
        s.ok(
            &token,
            "mutation($b: UUID!) { kvSet(input: { botId: $b, key: \"k\", value: 1 }) { version } }",
            json!({ "b": bot }),
        )
        .await;
        s.ok(&token, "mutation { runJanitor { trigger } }", json!({}))
            .await;
    }

    async fn count(db: &impl ConnectionTrait, sql: &str) -> i64 {
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }

    async fn name_tenant(tx: &impl ConnectionTrait, tenant: &str) {
        tx.execute_unprepared(&format!(
            "SELECT set_config('botmem.tenant', '{tenant}', true)"
        ))
        .await
        .unwrap();
    }

    /// `sql`'s count in a transaction that names `tenant`.
    async fn count_as(service: &DatabaseConnection, tenant: &str, sql: &str) -> i64 {
        let tx = service.begin().await.unwrap();
        name_tenant(&tx, tenant).await;
        let n = count(&tx, sql).await;
        tx.rollback().await.unwrap();
        n
    }

    #[tokio::test]
    async fn the_service_role_sees_and_writes_only_the_named_tenants_rows() {
        require_postgres();
        let s = TestServer::start().await;
        populate(&s, "acme").await;
        populate(&s, "globex").await;
        let superuser = sea_orm::Database::connect(&s.superuser_url())
            .await
            .unwrap();
        let service: DatabaseConnection = sea_orm::Database::connect(&s.config.database_url)
            .await
            .unwrap();

        // The role the server runs as is held by the policies at all.
        let bypasses = count(
            &service,
            "SELECT count(*) AS n FROM pg_roles \
             WHERE rolname = current_user AND (rolsuper OR rolbypassrls)",
        )
        .await;
        assert_eq!(bypasses, 0, "the service role passes row-level security");

        for (table, column) in TENANT_TABLES {
            // Both tenants have rows here, so there is something to hide.
            let both = count(
                &superuser,
                &format!("SELECT count(DISTINCT {column}) AS n FROM {table}"),
            )
            .await;
            assert_eq!(both, 2, "{table}: rows of both tenants");

            let unscoped = count(&service, &format!("SELECT count(*) AS n FROM {table}")).await;
            assert_eq!(unscoped, 0, "{table}: an unscoped SELECT read rows");

            // `*` opens the two housekeeping tables only.
            let distinct = format!("SELECT count(DISTINCT {column}) AS n FROM {table}");
            let all = count_as(&service, "*", &distinct).await;
            let expected = if HOUSEKEEPING_TABLES.contains(&table) {
                2
            } else {
                0
            };
            assert_eq!(
                all, expected,
                "{table}: tenants seen with botmem.tenant = '*'"
            );

            let foreign = format!("SELECT count(*) AS n FROM {table} WHERE {column} <> 'acme'");
            let others = count_as(&service, "acme", &foreign).await;
            let own = count_as(
                &service,
                "acme",
                &format!("SELECT count(*) AS n FROM {table}"),
            )
            .await;
            assert_eq!(others, 0, "{table}: acme read globex's rows");
            assert!(own > 0, "{table}: acme cannot read its own rows");
        }

        // Writes: an unscoped UPDATE reaches only the named tenant's rows,
        // and a row of another tenant cannot be written at all.
        let acme_variables = count(
            &superuser,
            "SELECT count(*) AS n FROM variables WHERE tenant_id = 'acme'",
        )
        .await;
        let tx = service.begin().await.unwrap();
        name_tenant(&tx, "acme").await;
        let updated = tx
            .execute_unprepared("UPDATE variables SET version = version")
            .await
            .unwrap()
            .rows_affected();
        assert_eq!(updated as i64, acme_variables);
        let own = "INSERT INTO event_outbox (tenant_id, id, payload) \
                   VALUES ('acme', gen_random_uuid(), '[]')";
        tx.execute_unprepared(own)
            .await
            .expect("acme writes its own row");
        tx.rollback().await.unwrap();

        let tx = service.begin().await.unwrap();
        name_tenant(&tx, "acme").await;
        let foreign = "INSERT INTO event_outbox (tenant_id, id, payload) \
                       VALUES ('globex', gen_random_uuid(), '[]')";
        let refused = tx.execute_unprepared(foreign).await.unwrap_err();
        assert!(
            refused.to_string().contains("row-level security"),
            "{refused}"
        );
    }

    /// A table added later without the policy fails here.
    #[tokio::test]
    async fn every_table_but_the_migration_log_is_behind_the_wall() {
        require_postgres();
        let s = TestServer::start().await;
        let superuser = sea_orm::Database::connect(&s.superuser_url())
            .await
            .unwrap();
        let sql = "SELECT c.relname AS name FROM pg_class c \
                   JOIN pg_namespace n ON n.oid = c.relnamespace \
                   LEFT JOIN pg_policy p ON p.polrelid = c.oid AND p.polname = 'tenant_wall' \
                   WHERE n.nspname = 'public' AND c.relkind = 'r' \
                   AND c.relname <> 'seaql_migrations' \
                   AND NOT (c.relrowsecurity AND c.relforcerowsecurity AND p.oid IS NOT NULL)";
        let open: Vec<String> = superuser
            .query_all_raw(Statement::from_string(
                superuser.get_database_backend(),
                sql,
            ))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get::<String>("", "name").unwrap())
            .collect();
        assert!(open.is_empty(), "tables without the tenant wall: {open:?}");
        let tables = count(
            &superuser,
            "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'",
        )
        .await;
        assert_eq!(tables as usize, TENANT_TABLES.len() + 1);
    }

    /// Starts the binary with `settings` on `url`; returns once its log
    /// has a line containing `needle` (or panics after 20 s), and the
    /// server's port.
    async fn log_of_a_start(
        url: &str,
        settings: &[(&str, &str)],
        needle: &'static str,
    ) -> (super::common::process::Botmem, u16) {
        let port = free_port();
        let (reader, writer) = std::io::pipe().unwrap();
        let server = spawn_botmem_logging(url, port, settings, writer);
        let (seen, found) = tokio::sync::oneshot::channel();
        // Reads the log to its end: a closed pipe would fail the server's writes.
        std::thread::spawn(move || {
            let mut seen = Some(seen);
            for line in BufReader::new(reader).lines().map_while(Result::ok) {
                if line.contains(needle) {
                    seen.take().map(|seen| seen.send(()));
                }
            }
        });
        tokio::time::timeout(std::time::Duration::from_secs(20), found)
            .await
            .unwrap_or_else(|_| panic!("no log line with {needle:?} within 20 s"))
            .unwrap_or_else(|_| panic!("the log ended without {needle:?}"));
        wait_up(port).await;
        (server, port)
    }

    #[tokio::test]
    async fn switched_off_the_wall_warns_and_the_service_still_keeps_tenants_apart() {
        require_postgres();
        let s = TestServer::start().await;
        let (_server, port) = log_of_a_start(
            &s.config.database_url,
            &[("BOTMEM_ROW_LEVEL_SECURITY", "off")],
            "BOTMEM_ROW_LEVEL_SECURITY=off",
        )
        .await;
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let bots = |tenant: &str| {
            let request = http
                .post(format!("{base}/graphql"))
                .bearer_auth(s.admin(tenant))
                .json(&json!({ "query": "{ bots { totalCount } }" }));
            async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
        };
        let created = http
            .post(format!("{base}/graphql"))
            .bearer_auth(s.admin("acme"))
            .json(&json!({ "query": "mutation { createBot(input: { name: \"b\" }) { id } }" }))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        assert!(created["data"]["createBot"]["id"].is_string(), "{created}");
        // The owner passes the policies now that they no longer bind it.
        let superuser = sea_orm::Database::connect(&s.superuser_url())
            .await
            .unwrap();
        let forced = count(
            &superuser,
            "SELECT count(*) AS n FROM pg_class WHERE relforcerowsecurity",
        )
        .await;
        assert_eq!(forced, 0, "tables still force row-level security");
        assert_eq!(bots("acme").await["data"]["bots"]["totalCount"], 1);
        assert_eq!(bots("globex").await["data"]["bots"]["totalCount"], 0);
    }

    #[tokio::test]
    async fn a_superuser_connection_is_warned_about() {
        require_postgres();
        let s = TestServer::start().await;
        log_of_a_start(&s.superuser_url(), &[], "BYPASSRLS").await;
    }
}
