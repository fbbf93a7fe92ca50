// @generated automatically by Diesel CLI.

diesel::table! {
    assistant_answers (ledger_id, id) {
        ledger_id -> Uuid,
        id -> Uuid,
        user_id -> Uuid,
        conversation_id -> Uuid,
        question -> Text,
        locale -> Text,
        intent -> Text,
        confidence -> Float4,
        entities -> Jsonb,
        data -> Jsonb,
        answer -> Text,
        feedback -> Nullable<Text>,
        feedback_comment -> Nullable<Text>,
        feedback_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    goal_contributions (ledger_id, id) {
        ledger_id -> Uuid,
        id -> Uuid,
        goal_id -> Uuid,
        amount -> Numeric,
        date -> Date,
        note -> Nullable<Text>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    goals (ledger_id, id) {
        ledger_id -> Uuid,
        id -> Uuid,
        name -> Text,
        target_amount -> Numeric,
        currency -> Text,
        target_date -> Nullable<Date>,
        wallet_id -> Nullable<Uuid>,
        announced_state -> Text,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    scenarios (ledger_id, id) {
        ledger_id -> Uuid,
        id -> Uuid,
        name -> Text,
        request -> Jsonb,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    attachments (ledger_id, id) {
        ledger_id -> Uuid,
        id -> Uuid,
        transaction_id -> Nullable<Uuid>,
        receipt_id -> Nullable<Uuid>,
        uploaded_by -> Nullable<Uuid>,
        file_name -> Nullable<Text>,
        content_type -> Text,
        size_bytes -> Int8,
        sha256 -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Uuid,
        user_id -> Nullable<Uuid>,
        actor_id -> Nullable<Uuid>,
        action -> Text,
        ip -> Nullable<Text>,
        request_id -> Nullable<Text>,
        details -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    bill_payments (ledger_id, id) {
        id -> Uuid,
        ledger_id -> Uuid,
        bill_id -> Uuid,
        due_date -> Date,
        paid_on -> Date,
        amount -> Numeric,
        transaction_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    bills (ledger_id, id) {
        id -> Uuid,
        ledger_id -> Uuid,
        name -> Text,
        amount -> Numeric,
        currency -> Text,
        category_id -> Uuid,
        wallet_id -> Uuid,
        frequency -> Text,
        next_due_date -> Date,
        due_day -> Int2,
        reminder_days_before -> Int4,
        notes -> Nullable<Text>,
        autopay -> Bool,
        paid_at -> Nullable<Timestamptz>,
        cancelled_at -> Nullable<Timestamptz>,
        change_seq -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    budget_categories (ledger_id, budget_id, category_id) {
        ledger_id -> Uuid,
        budget_id -> Uuid,
        category_id -> Uuid,
    }
}

diesel::table! {
    budgets (ledger_id, id) {
        id -> Uuid,
        ledger_id -> Uuid,
        name -> Text,
        amount -> Numeric,
        currency -> Text,
        period -> Text,
        start_date -> Date,
        end_date -> Nullable<Date>,
        alert_threshold -> Numeric,
        rollover -> Bool,
        change_seq -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    categories (ledger_id, id) {
        id -> Uuid,
        ledger_id -> Uuid,
        parent_id -> Nullable<Uuid>,
        name -> Text,
        kind -> Text,
        icon -> Nullable<Text>,
        color -> Nullable<Text>,
        change_seq -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    category_descriptions (ledger_id, id) {
        id -> Uuid,
        ledger_id -> Uuid,
        category_id -> Uuid,
        text -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    category_suggestions (ledger_id, id) {
        id -> Uuid,
        ledger_id -> Uuid,
        transaction_id -> Nullable<Uuid>,
        description -> Text,
        merchant -> Nullable<Text>,
        amount -> Nullable<Numeric>,
        suggestions -> Jsonb,
        model -> Text,
        applied_category_id -> Nullable<Uuid>,
        final_category_id -> Nullable<Uuid>,
        resolved_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    daily_category_flows (ledger_id, day, category_id, wallet_id, currency, type_) {
        ledger_id -> Uuid,
        day -> Date,
        category_id -> Uuid,
        wallet_id -> Uuid,
        currency -> Text,
        #[sql_name = "type"]
        type_ -> Text,
        amount -> Numeric,
        transactions -> Int8,
    }
}

diesel::table! {
    daily_flows (ledger_id, day, wallet_id, to_wallet_key, currency, type_) {
        ledger_id -> Uuid,
        day -> Date,
        wallet_id -> Uuid,
        to_wallet_id -> Nullable<Uuid>,
        currency -> Text,
        #[sql_name = "type"]
        type_ -> Text,
        amount -> Numeric,
        transactions -> Int8,
        squares -> Numeric,
        to_wallet_key -> Uuid,
    }
}

diesel::table! {
    file_garbage (ledger_id, sha256) {
        ledger_id -> Uuid,
        sha256 -> Text,
        queued_at -> Timestamptz,
    }
}

diesel::table! {
    idempotency_keys (principal, key) {
        principal -> Text,
        key -> Text,
        request_hash -> Text,
        status_code -> Nullable<Int4>,
        response_headers -> Nullable<Jsonb>,
        response_body -> Nullable<Bytea>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    import_batches (ledger_id, id) {
        ledger_id -> Uuid,
        id -> Uuid,
        created_by -> Nullable<Uuid>,
        format -> Text,
        undone -> Bool,
        wallet_id -> Nullable<Uuid>,
        account -> Nullable<Text>,
        currency -> Nullable<Text>,
        period_start -> Nullable<Date>,
        period_end -> Nullable<Date>,
        entries -> Int4,
        created -> Int4,
        duplicates -> Int4,
        possible_duplicates -> Int4,
        failed -> Int4,
        report -> Json,
        created_at -> Timestamptz,
        state -> Text,
        auto_approve -> Bool,
        sha256 -> Nullable<Text>,
        size_bytes -> Nullable<Int8>,
        progress -> Int4,
        failure_field -> Nullable<Text>,
        failure -> Nullable<Text>,
        claimed_until -> Nullable<Timestamptz>,
        attempts -> Int4,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    ledger_invitations (ledger_id, id) {
        ledger_id -> Uuid,
        id -> Uuid,
        email -> Text,
        role -> Text,
        token_hash -> Text,
        invited_by -> Nullable<Uuid>,
        status -> Text,
        answered_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        answered_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    ledger_members (ledger_id, user_id) {
        ledger_id -> Uuid,
        user_id -> Uuid,
        role -> Text,
        joined_at -> Timestamptz,
    }
}

diesel::table! {
    ledgers (id) {
        id -> Uuid,
        kind -> Text,
        name -> Text,
        currency -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    login_throttle (email) {
        email -> Text,
        failed_count -> Int4,
        locked_until -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    mfa_challenges (token_hash) {
        token_hash -> Text,
        user_id -> Uuid,
        remember_me -> Bool,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    ml_models (ledger_id, id) {
        id -> Uuid,
        ledger_id -> Uuid,
        kind -> Text,
        algorithm -> Text,
        model -> Jsonb,
        metrics -> Jsonb,
        data_from -> Nullable<Date>,
        data_to -> Nullable<Date>,
        training_rows -> Int4,
        training_ms -> Int4,
        data_version -> Int8,
        trained_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    notifications (ledger_id, id) {
        id -> Uuid,
        ledger_id -> Uuid,
        #[sql_name = "type"]
        type_ -> Text,
        title -> Text,
        body -> Text,
        data -> Jsonb,
        dedupe_key -> Text,
        created_at -> Timestamptz,
        priority -> Text,
    }
}

diesel::table! {
    notification_reads (ledger_id, notification_id, user_id) {
        ledger_id -> Uuid,
        notification_id -> Uuid,
        user_id -> Uuid,
        read_at -> Timestamptz,
    }
}

diesel::table! {
    predictions (ledger_id, id) {
        id -> Uuid,
        ledger_id -> Uuid,
        category_id -> Nullable<Uuid>,
        period -> Text,
        period_start -> Date,
        period_end -> Date,
        currency -> Text,
        amount -> Numeric,
        lower -> Numeric,
        upper -> Numeric,
        method -> Text,
        confidence -> Text,
        as_of -> Date,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    rate_limits (key) {
        key -> Text,
        tat -> Timestamptz,
        allowed -> Bool,
    }
}

diesel::table! {
    receipts (ledger_id, id) {
        ledger_id -> Uuid,
        id -> Uuid,
        uploaded_by -> Nullable<Uuid>,
        status -> Text,
        failure -> Nullable<Text>,
        ocr_text -> Nullable<Text>,
        parsed -> Nullable<Jsonb>,
        corrections -> Jsonb,
        merchant -> Nullable<Text>,
        date -> Nullable<Date>,
        total -> Nullable<Numeric>,
        currency -> Nullable<Text>,
        transaction_id -> Nullable<Uuid>,
        claimed_until -> Nullable<Timestamptz>,
        attempts -> Int4,
        processed_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    recovery_codes (user_id, code_hash) {
        user_id -> Uuid,
        code_hash -> Text,
        used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    recurring_occurrences (ledger_id, recurring_id, occurrence_date) {
        ledger_id -> Uuid,
        recurring_id -> Uuid,
        occurrence_date -> Date,
        transaction_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    recurring_transactions (ledger_id, id) {
        id -> Uuid,
        ledger_id -> Uuid,
        #[sql_name = "type"]
        type_ -> Text,
        amount -> Numeric,
        currency -> Text,
        description -> Text,
        merchant -> Nullable<Text>,
        notes -> Nullable<Text>,
        category_id -> Nullable<Uuid>,
        wallet_id -> Uuid,
        to_wallet_id -> Nullable<Uuid>,
        tags -> Array<Nullable<Text>>,
        frequency -> Text,
        next_date -> Date,
        end_date -> Nullable<Date>,
        anchor_day -> Int2,
        active -> Bool,
        change_seq -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        family_id -> Uuid,
        token_hash -> Text,
        remember_me -> Bool,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        user_agent -> Nullable<Text>,
        ip -> Nullable<Text>,
    }
}

diesel::table! {
    rules (ledger_id, id) {
        ledger_id -> Uuid,
        id -> Uuid,
        name -> Text,
        position -> Int4,
        active -> Bool,
        payee_contains -> Nullable<Text>,
        payee_equals -> Nullable<Text>,
        payee_regex -> Nullable<Text>,
        min_amount -> Nullable<Numeric>,
        max_amount -> Nullable<Numeric>,
        wallet_id -> Nullable<Uuid>,
        #[sql_name = "type"]
        type_ -> Nullable<Text>,
        category_id -> Nullable<Uuid>,
        add_tags -> Array<Nullable<Text>>,
        rename_payee -> Nullable<Text>,
        transfer_to_wallet_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    schema_info (id) {
        id -> Uuid,
        installed_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        singleton -> Bool,
    }
}

diesel::table! {
    tombstones (ledger_id, id) {
        id -> Uuid,
        ledger_id -> Uuid,
        entity -> Text,
        entity_id -> Uuid,
        change_seq -> Int8,
        deleted_at -> Timestamptz,
    }
}

diesel::table! {
    totp_credentials (user_id) {
        user_id -> Uuid,
        secret -> Bytea,
        confirmed_at -> Nullable<Timestamptz>,
        last_step -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    transaction_counts (ledger_id, type_) {
        ledger_id -> Uuid,
        #[sql_name = "type"]
        type_ -> Text,
        n -> Int8,
    }
}

diesel::table! {
    transaction_splits (ledger_id, id) {
        id -> Uuid,
        ledger_id -> Uuid,
        transaction_id -> Uuid,
        category_id -> Uuid,
        amount -> Numeric,
        note -> Nullable<Text>,
        position -> Int4,
        day -> Date,
        wallet_id -> Uuid,
        currency -> Text,
        #[sql_name = "type"]
        type_ -> Text,
    }
}

diesel::table! {
    transactions (ledger_id, id) {
        id -> Uuid,
        ledger_id -> Uuid,
        #[sql_name = "type"]
        type_ -> Text,
        amount -> Numeric,
        currency -> Text,
        date -> Date,
        description -> Text,
        merchant -> Nullable<Text>,
        notes -> Nullable<Text>,
        category_id -> Nullable<Uuid>,
        wallet_id -> Uuid,
        to_wallet_id -> Nullable<Uuid>,
        tags -> Array<Nullable<Text>>,
        import_hash -> Nullable<Text>,
        change_seq -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        category_source -> Text,
        category_confidence -> Nullable<Numeric>,
        is_unusual -> Bool,
        unusual_reason -> Nullable<Text>,
        created_by -> Nullable<Uuid>,
        updated_by -> Nullable<Uuid>,
        tax_rate -> Nullable<Numeric>,
        tax_deductible -> Bool,
        status -> Text,
        import_batch_id -> Nullable<Uuid>,
        external_id -> Nullable<Text>,
        transfer_match_id -> Nullable<Uuid>,
        automatic -> Bool,
    }
}

diesel::table! {
    user_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        purpose -> Text,
        token_hash -> Text,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        role -> Text,
        status -> Text,
        email_verified_at -> Nullable<Timestamptz>,
        tokens_valid_after -> Timestamptz,
        currency -> Text,
        language -> Text,
        theme -> Text,
        timezone -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        two_factor_enabled -> Bool,
    }
}

diesel::table! {
    wallets (ledger_id, id) {
        id -> Uuid,
        ledger_id -> Uuid,
        name -> Text,
        #[sql_name = "type"]
        type_ -> Text,
        currency -> Text,
        opening_balance -> Numeric,
        archived -> Bool,
        change_seq -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        bank_account -> Nullable<Text>,
        moved -> Numeric,
    }
}

diesel::joinable!(attachments -> ledgers (ledger_id));
diesel::joinable!(bills -> ledgers (ledger_id));
diesel::joinable!(budgets -> ledgers (ledger_id));
diesel::joinable!(categories -> ledgers (ledger_id));
diesel::joinable!(category_descriptions -> ledgers (ledger_id));
diesel::joinable!(category_suggestions -> ledgers (ledger_id));
diesel::joinable!(daily_category_flows -> ledgers (ledger_id));
diesel::joinable!(daily_flows -> ledgers (ledger_id));
diesel::joinable!(ledger_invitations -> ledgers (ledger_id));
diesel::joinable!(ledger_members -> ledgers (ledger_id));
diesel::joinable!(ledger_members -> users (user_id));
diesel::joinable!(ml_models -> ledgers (ledger_id));
diesel::joinable!(notifications -> ledgers (ledger_id));
diesel::joinable!(predictions -> ledgers (ledger_id));
diesel::joinable!(receipts -> ledgers (ledger_id));
diesel::joinable!(recurring_transactions -> ledgers (ledger_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(tombstones -> ledgers (ledger_id));
diesel::joinable!(transaction_counts -> ledgers (ledger_id));
diesel::joinable!(transactions -> ledgers (ledger_id));
diesel::joinable!(user_tokens -> users (user_id));
diesel::joinable!(mfa_challenges -> users (user_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(totp_credentials -> users (user_id));
diesel::joinable!(wallets -> ledgers (ledger_id));

diesel::allow_tables_to_appear_in_same_query!(
    assistant_answers,
    goal_contributions,
    goals,
    scenarios,
    attachments,
    file_garbage,
    receipts,
    audit_log,
    bill_payments,
    bills,
    budget_categories,
    budgets,
    categories,
    category_descriptions,
    category_suggestions,
    daily_category_flows,
    daily_flows,
    idempotency_keys,
    ledger_invitations,
    ledger_members,
    ledgers,
    login_throttle,
    mfa_challenges,
    ml_models,
    notification_reads,
    notifications,
    predictions,
    rate_limits,
    recovery_codes,
    recurring_occurrences,
    recurring_transactions,
    refresh_tokens,
    rules,
    schema_info,
    tombstones,
    totp_credentials,
    transaction_counts,
    transaction_splits,
    transactions,
    user_tokens,
    users,
    wallets,
);
