--
-- PostgreSQL database dump
--

\restrict tradestorefrozen

-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: get_paper_fill_rate(text, integer, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.get_paper_fill_rate(symbol text, days integer DEFAULT 7, bot_id text DEFAULT NULL::text) RETURNS double precision
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    since timestamptz := now() - make_interval(days => get_paper_fill_rate.days);
    total bigint;
    filled bigint;
BEGIN
    IF get_paper_fill_rate.bot_id IS NULL THEN
        SELECT COUNT(*), COUNT(*) FILTER (WHERE o.status = 'filled') INTO total, filled
        FROM orders o
        WHERE o.ticker = get_paper_fill_rate.symbol AND o.submitted_at >= since;
    ELSE
        SELECT COUNT(*), COUNT(*) FILTER (WHERE o.status = 'filled') INTO total, filled
        FROM orders o
        WHERE o.ticker = get_paper_fill_rate.symbol AND o.submitted_at >= since
          AND o.bot_id = get_paper_fill_rate.bot_id;
    END IF;
    IF total = 0 THEN
        RETURN NULL;
    END IF;
    RETURN filled::double precision / total;
END
$$;


--
-- Name: FUNCTION get_paper_fill_rate(symbol text, days integer, bot_id text); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.get_paper_fill_rate(symbol text, days integer, bot_id text) IS 'Filled orders / all orders submitted for symbol in the last days days, of one bot or of all bots when bot_id is NULL; NULL when there were no orders (seed 003).';


--
-- Name: get_paper_total_pnl(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.get_paper_total_pnl(bot_id text DEFAULT NULL::text) RETURNS numeric
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    IF get_paper_total_pnl.bot_id IS NULL THEN
        RETURN COALESCE((SELECT SUM(p.unrealized_pnl) FROM positions p), 0)
             + COALESCE((SELECT SUM(cp.realized_pnl) FROM closed_positions cp), 0);
    END IF;
    RETURN COALESCE((SELECT SUM(p.unrealized_pnl) FROM positions p
                     WHERE p.bot_id = get_paper_total_pnl.bot_id), 0)
         + COALESCE((SELECT SUM(cp.realized_pnl) FROM closed_positions cp
                     WHERE cp.bot_id = get_paper_total_pnl.bot_id), 0);
END
$$;


--
-- Name: FUNCTION get_paper_total_pnl(bot_id text); Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON FUNCTION public.get_paper_total_pnl(bot_id text) IS 'Realized (closed positions) plus unrealized (open positions) P&L of one bot, or of all bots when bot_id is NULL (seed 003).';


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: agent_performance; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.agent_performance (
    performance_id bigint NOT NULL,
    run_id character varying(64) NOT NULL,
    evaluation_date date NOT NULL,
    evaluation_type character varying(10) NOT NULL,
    data_period_start date,
    data_period_end date,
    num_episodes integer,
    total_return double precision,
    total_return_pct double precision,
    annualized_return double precision,
    cumulative_reward double precision,
    avg_episode_reward double precision,
    sharpe_ratio double precision,
    sortino_ratio double precision,
    calmar_ratio double precision,
    max_drawdown double precision,
    max_drawdown_pct double precision,
    volatility double precision,
    downside_deviation double precision,
    total_trades integer,
    winning_trades integer,
    losing_trades integer,
    win_rate double precision,
    avg_win double precision,
    avg_loss double precision,
    profit_factor double precision,
    expectancy double precision,
    largest_win double precision,
    largest_loss double precision,
    buy_and_hold_return double precision,
    excess_return double precision,
    information_ratio double precision,
    avg_action_entropy double precision,
    avg_value_estimate double precision,
    policy_stability double precision,
    created_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    CONSTRAINT ck_agent_performance_data_period CHECK (((data_period_start IS NULL) OR (data_period_end IS NULL) OR (data_period_end >= data_period_start))),
    CONSTRAINT ck_agent_performance_evaluation_type CHECK (((evaluation_type)::text = ANY ((ARRAY['train'::character varying, 'validation'::character varying, 'test'::character varying, 'live_paper'::character varying, 'backtest'::character varying])::text[]))),
    CONSTRAINT ck_agent_performance_total_trades_non_negative CHECK (((total_trades IS NULL) OR (total_trades >= 0))),
    CONSTRAINT ck_agent_performance_win_rate_range CHECK (((win_rate IS NULL) OR ((win_rate >= (0)::double precision) AND (win_rate <= (1)::double precision))))
);


--
-- Name: agent_performance_performance_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.agent_performance_performance_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: agent_performance_performance_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.agent_performance_performance_id_seq OWNED BY public.agent_performance.performance_id;


--
-- Name: bots; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.bots (
    bot_id character varying(64) NOT NULL,
    name character varying(200),
    mode character varying(8) NOT NULL,
    broker character varying(50),
    status character varying(8) NOT NULL,
    config_file character varying(500),
    started_at timestamp with time zone,
    ended_at timestamp with time zone,
    last_heartbeat timestamp with time zone,
    starting_balance numeric(38,18),
    current_balance numeric(38,18),
    total_pnl numeric(38,18) NOT NULL,
    total_commission numeric(38,18) NOT NULL,
    config jsonb,
    metadata jsonb,
    notes text,
    created_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    CONSTRAINT ck_bots_bot_id_not_empty CHECK (((bot_id)::text <> ''::text)),
    CONSTRAINT ck_bots_ended_after_started CHECK (((ended_at IS NULL) OR (started_at IS NULL) OR (ended_at >= started_at))),
    CONSTRAINT ck_bots_mode CHECK (((mode)::text = ANY ((ARRAY['paper'::character varying, 'live'::character varying, 'backtest'::character varying])::text[]))),
    CONSTRAINT ck_bots_starting_balance CHECK (((starting_balance IS NULL) OR (starting_balance >= (0)::numeric))),
    CONSTRAINT ck_bots_status CHECK (((status)::text = ANY ((ARRAY['starting'::character varying, 'running'::character varying, 'paused'::character varying, 'stopped'::character varying, 'error'::character varying])::text[]))),
    CONSTRAINT ck_bots_total_commission CHECK ((total_commission >= (0)::numeric))
);


--
-- Name: closed_positions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.closed_positions (
    closed_position_id bigint NOT NULL,
    position_id character varying(64) NOT NULL,
    bot_id character varying(64) NOT NULL,
    ticker character varying(32) NOT NULL,
    side character varying(5) NOT NULL,
    quantity numeric(38,18) NOT NULL,
    entry_price numeric(38,18) NOT NULL,
    exit_price numeric(38,18) NOT NULL,
    current_price numeric(38,18),
    realized_pnl numeric(38,18) NOT NULL,
    realized_pnl_pct double precision NOT NULL,
    stop_loss_price numeric(38,18),
    take_profit_price numeric(38,18),
    opened_at timestamp with time zone NOT NULL,
    closed_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    holding_period_hours double precision NOT NULL,
    exit_reason character varying(15) NOT NULL,
    commission numeric(38,18) NOT NULL,
    slippage numeric(38,18),
    max_favorable_excursion numeric(38,18),
    max_adverse_excursion numeric(38,18),
    strategy character varying(100),
    signal_score double precision,
    metadata jsonb,
    CONSTRAINT ck_closed_positions_closed_after_opened CHECK ((closed_at >= opened_at)),
    CONSTRAINT ck_closed_positions_commission_non_negative CHECK ((commission >= (0)::numeric)),
    CONSTRAINT ck_closed_positions_entry_price_positive CHECK ((entry_price > (0)::numeric)),
    CONSTRAINT ck_closed_positions_exit_price_positive CHECK ((exit_price > (0)::numeric)),
    CONSTRAINT ck_closed_positions_exit_reason CHECK (((exit_reason)::text = ANY ((ARRAY['stop_loss'::character varying, 'take_profit'::character varying, 'trailing_stop'::character varying, 'time_exit'::character varying, 'manual'::character varying, 'risk_limit'::character varying, 'circuit_breaker'::character varying, 'market_close'::character varying])::text[]))),
    CONSTRAINT ck_closed_positions_holding_period_non_negative CHECK ((holding_period_hours >= (0)::double precision)),
    CONSTRAINT ck_closed_positions_quantity_positive CHECK ((quantity > (0)::numeric)),
    CONSTRAINT ck_closed_positions_side CHECK (((side)::text = ANY ((ARRAY['long'::character varying, 'short'::character varying])::text[]))),
    CONSTRAINT ck_closed_positions_signal_score_range CHECK (((signal_score IS NULL) OR ((signal_score >= (0)::double precision) AND (signal_score <= (1)::double precision))))
);


--
-- Name: closed_positions_closed_position_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.closed_positions_closed_position_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: closed_positions_closed_position_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.closed_positions_closed_position_id_seq OWNED BY public.closed_positions.closed_position_id;


--
-- Name: ensemble_weights; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ensemble_weights (
    weight_id bigint NOT NULL,
    ensemble_id character varying(100) NOT NULL,
    version integer NOT NULL,
    update_time timestamp with time zone NOT NULL,
    update_date date NOT NULL,
    run_id character varying(64) NOT NULL,
    algorithm character varying(8) NOT NULL,
    weight double precision NOT NULL,
    performance_score double precision,
    sharpe_ratio double precision,
    win_rate double precision,
    is_active boolean NOT NULL,
    weighting_method character varying(20) NOT NULL,
    lookback_days integer,
    CONSTRAINT ck_ensemble_weights_algorithm CHECK (((algorithm)::text = ANY ((ARRAY['PPO'::character varying, 'SAC'::character varying, 'A2C'::character varying, 'TD3'::character varying, 'DQN'::character varying, 'DDPG'::character varying, 'Ensemble'::character varying])::text[]))),
    CONSTRAINT ck_ensemble_weights_ensemble_id_not_empty CHECK (((ensemble_id)::text <> ''::text)),
    CONSTRAINT ck_ensemble_weights_lookback_days_positive CHECK (((lookback_days IS NULL) OR (lookback_days > 0))),
    CONSTRAINT ck_ensemble_weights_version_positive CHECK ((version > 0)),
    CONSTRAINT ck_ensemble_weights_weight_range CHECK (((weight >= (0)::double precision) AND (weight <= (1)::double precision))),
    CONSTRAINT ck_ensemble_weights_weighting_method CHECK (((weighting_method)::text = ANY ((ARRAY['equal'::character varying, 'sharpe_weighted'::character varying, 'performance_weighted'::character varying, 'adaptive'::character varying, 'manual'::character varying])::text[]))),
    CONSTRAINT ck_ensemble_weights_win_rate_range CHECK (((win_rate IS NULL) OR ((win_rate >= (0)::double precision) AND (win_rate <= (1)::double precision))))
);


--
-- Name: ensemble_weights_weight_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.ensemble_weights_weight_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: ensemble_weights_weight_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.ensemble_weights_weight_id_seq OWNED BY public.ensemble_weights.weight_id;


--
-- Name: fills; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.fills (
    bot_id character varying(64) NOT NULL,
    fill_id character varying(128) NOT NULL,
    order_id character varying(64) NOT NULL,
    ticker character varying(32) NOT NULL,
    side character varying(4) NOT NULL,
    quantity numeric(38,18) NOT NULL,
    price numeric(38,18) NOT NULL,
    filled_at timestamp with time zone NOT NULL,
    liquidity character varying(7) NOT NULL,
    commission numeric(38,18) NOT NULL,
    position_id character varying(64),
    CONSTRAINT ck_fills_commission_non_negative CHECK ((commission >= (0)::numeric)),
    CONSTRAINT ck_fills_fill_id_not_empty CHECK (((fill_id)::text <> ''::text)),
    CONSTRAINT ck_fills_liquidity CHECK (((liquidity)::text = ANY ((ARRAY['maker'::character varying, 'taker'::character varying, 'unknown'::character varying])::text[]))),
    CONSTRAINT ck_fills_price_positive CHECK ((price > (0)::numeric)),
    CONSTRAINT ck_fills_quantity_positive CHECK ((quantity > (0)::numeric)),
    CONSTRAINT ck_fills_side CHECK (((side)::text = ANY ((ARRAY['buy'::character varying, 'sell'::character varying])::text[])))
);


--
-- Name: hyperparameters; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.hyperparameters (
    hyperparameter_id bigint NOT NULL,
    run_id character varying(64) NOT NULL,
    algorithm character varying(8) NOT NULL,
    learning_rate double precision,
    batch_size integer,
    n_steps integer,
    gamma double precision,
    policy_type character varying(100),
    net_arch jsonb,
    activation_fn character varying(50),
    n_epochs integer,
    buffer_size bigint,
    tau double precision,
    ent_coef double precision,
    vf_coef double precision,
    max_grad_norm double precision,
    reward_function character varying(100),
    reward_scaling double precision,
    transaction_cost_pct double precision,
    slippage_pct double precision,
    params_json jsonb NOT NULL,
    CONSTRAINT ck_hyperparameters_algorithm CHECK (((algorithm)::text = ANY ((ARRAY['PPO'::character varying, 'SAC'::character varying, 'A2C'::character varying, 'TD3'::character varying, 'DQN'::character varying, 'DDPG'::character varying, 'Ensemble'::character varying])::text[]))),
    CONSTRAINT ck_hyperparameters_batch_size_positive CHECK (((batch_size IS NULL) OR (batch_size > 0))),
    CONSTRAINT ck_hyperparameters_buffer_size_positive CHECK (((buffer_size IS NULL) OR (buffer_size > 0))),
    CONSTRAINT ck_hyperparameters_gamma_range CHECK (((gamma IS NULL) OR ((gamma >= (0)::double precision) AND (gamma <= (1)::double precision)))),
    CONSTRAINT ck_hyperparameters_learning_rate_positive CHECK (((learning_rate IS NULL) OR (learning_rate > (0)::double precision))),
    CONSTRAINT ck_hyperparameters_n_epochs_positive CHECK (((n_epochs IS NULL) OR (n_epochs > 0))),
    CONSTRAINT ck_hyperparameters_n_steps_positive CHECK (((n_steps IS NULL) OR (n_steps > 0)))
);


--
-- Name: hyperparameters_hyperparameter_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.hyperparameters_hyperparameter_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: hyperparameters_hyperparameter_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.hyperparameters_hyperparameter_id_seq OWNED BY public.hyperparameters.hyperparameter_id;


--
-- Name: migration_history; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.migration_history (
    history_id bigint NOT NULL,
    migration_id character varying(64) NOT NULL,
    migration_name character varying(200) NOT NULL,
    database_path character varying(500) NOT NULL,
    applied_at timestamp with time zone NOT NULL,
    applied_date date NOT NULL,
    duration_seconds double precision,
    status character varying(11) NOT NULL,
    error_message text,
    CONSTRAINT ck_migration_history_status CHECK (((status)::text = ANY ((ARRAY['applied'::character varying, 'rolled_back'::character varying, 'failed'::character varying])::text[])))
);


--
-- Name: migration_history_history_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.migration_history_history_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: migration_history_history_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.migration_history_history_id_seq OWNED BY public.migration_history.history_id;


--
-- Name: orders; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.orders (
    order_id character varying(64) NOT NULL,
    bot_id character varying(64) NOT NULL,
    client_order_id character varying(128) NOT NULL,
    broker_order_id character varying(128),
    ticker character varying(32) NOT NULL,
    order_type character varying(13) NOT NULL,
    side character varying(4) NOT NULL,
    quantity numeric(38,18) NOT NULL,
    limit_price numeric(38,18),
    stop_price numeric(38,18),
    reference_price numeric(38,18),
    time_in_force character varying(3) NOT NULL,
    status character varying(16) NOT NULL,
    submitted_at timestamp with time zone NOT NULL,
    accepted_at timestamp with time zone,
    filled_at timestamp with time zone,
    cancelled_at timestamp with time zone,
    rejected_at timestamp with time zone,
    expired_at timestamp with time zone,
    updated_at timestamp with time zone NOT NULL,
    filled_quantity numeric(38,18) NOT NULL,
    filled_avg_price numeric(38,18),
    commission numeric(38,18) NOT NULL,
    slippage numeric(38,18),
    position_id character varying(64),
    strategy character varying(100),
    reject_reason text,
    metadata jsonb,
    CONSTRAINT ck_orders_client_order_id_not_empty CHECK (((client_order_id)::text <> ''::text)),
    CONSTRAINT ck_orders_commission_non_negative CHECK ((commission >= (0)::numeric)),
    CONSTRAINT ck_orders_filled_avg_price_positive CHECK (((filled_avg_price IS NULL) OR (filled_avg_price > (0)::numeric))),
    CONSTRAINT ck_orders_filled_means_complete CHECK ((((status)::text <> 'filled'::text) OR (filled_quantity = quantity))),
    CONSTRAINT ck_orders_filled_quantity_range CHECK (((filled_quantity >= (0)::numeric) AND (filled_quantity <= quantity))),
    CONSTRAINT ck_orders_limit_price_positive CHECK (((limit_price IS NULL) OR (limit_price > (0)::numeric))),
    CONSTRAINT ck_orders_order_type CHECK (((order_type)::text = ANY ((ARRAY['market'::character varying, 'limit'::character varying, 'stop'::character varying, 'stop_limit'::character varying, 'trailing_stop'::character varying])::text[]))),
    CONSTRAINT ck_orders_prices_by_type CHECK (((((order_type)::text <> 'limit'::text) OR (limit_price IS NOT NULL)) AND (((order_type)::text <> 'stop'::text) OR (stop_price IS NOT NULL)) AND (((order_type)::text <> 'stop_limit'::text) OR ((limit_price IS NOT NULL) AND (stop_price IS NOT NULL))))),
    CONSTRAINT ck_orders_quantity_positive CHECK ((quantity > (0)::numeric)),
    CONSTRAINT ck_orders_reference_price_positive CHECK (((reference_price IS NULL) OR (reference_price > (0)::numeric))),
    CONSTRAINT ck_orders_side CHECK (((side)::text = ANY ((ARRAY['buy'::character varying, 'sell'::character varying])::text[]))),
    CONSTRAINT ck_orders_status CHECK (((status)::text = ANY ((ARRAY['pending'::character varying, 'new'::character varying, 'accepted'::character varying, 'partially_filled'::character varying, 'filled'::character varying, 'cancelled'::character varying, 'rejected'::character varying, 'expired'::character varying])::text[]))),
    CONSTRAINT ck_orders_stop_price_positive CHECK (((stop_price IS NULL) OR (stop_price > (0)::numeric))),
    CONSTRAINT ck_orders_time_in_force CHECK (((time_in_force)::text = ANY ((ARRAY['day'::character varying, 'gtc'::character varying, 'ioc'::character varying, 'fok'::character varying, 'opg'::character varying, 'cls'::character varying])::text[])))
);


--
-- Name: performance_metrics; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.performance_metrics (
    metric_id bigint NOT NULL,
    bot_id character varying(64) NOT NULL,
    metric_date date NOT NULL,
    strategy character varying(100) NOT NULL,
    sharpe_ratio double precision,
    sortino_ratio double precision,
    calmar_ratio double precision,
    omega_ratio double precision,
    max_drawdown numeric(38,18),
    max_drawdown_pct double precision,
    current_drawdown numeric(38,18),
    current_drawdown_pct double precision,
    days_in_drawdown integer,
    return_1d double precision,
    return_7d double precision,
    return_30d double precision,
    return_ytd double precision,
    return_inception double precision,
    volatility_daily double precision,
    volatility_annualized double precision,
    downside_deviation double precision,
    total_trades_30d integer,
    winning_trades_30d integer,
    losing_trades_30d integer,
    win_rate_30d double precision,
    avg_win_30d numeric(38,18),
    avg_loss_30d numeric(38,18),
    profit_factor_30d double precision,
    expectancy_30d numeric(38,18),
    benchmark_return double precision,
    alpha double precision,
    beta double precision,
    correlation_to_benchmark double precision,
    created_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    CONSTRAINT ck_performance_metrics_days_in_drawdown_non_negative CHECK (((days_in_drawdown IS NULL) OR (days_in_drawdown >= 0))),
    CONSTRAINT ck_performance_metrics_strategy_not_empty CHECK (((strategy)::text <> ''::text)),
    CONSTRAINT ck_performance_metrics_win_rate_range CHECK (((win_rate_30d IS NULL) OR ((win_rate_30d >= (0)::double precision) AND (win_rate_30d <= (1)::double precision)))),
    CONSTRAINT ck_performance_metrics_wins_le_trades CHECK (((total_trades_30d IS NULL) OR (winning_trades_30d IS NULL) OR (winning_trades_30d <= total_trades_30d)))
);


--
-- Name: performance_metrics_metric_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.performance_metrics_metric_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: performance_metrics_metric_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.performance_metrics_metric_id_seq OWNED BY public.performance_metrics.metric_id;


--
-- Name: portfolio_snapshots; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.portfolio_snapshots (
    snapshot_id bigint NOT NULL,
    bot_id character varying(64) NOT NULL,
    snapshot_date date NOT NULL,
    snapshot_time timestamp with time zone NOT NULL,
    total_equity numeric(38,18) NOT NULL,
    cash_balance numeric(38,18) NOT NULL,
    long_market_value numeric(38,18) NOT NULL,
    short_market_value numeric(38,18) NOT NULL,
    positions_count integer NOT NULL,
    daily_pnl numeric(38,18),
    daily_return_pct double precision,
    cumulative_pnl numeric(38,18),
    cumulative_return_pct double precision,
    buying_power numeric(38,18),
    leverage double precision,
    unrealized_pnl numeric(38,18),
    realized_pnl_today numeric(38,18),
    trades_today integer NOT NULL,
    wins_today integer NOT NULL,
    losses_today integer NOT NULL,
    created_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    CONSTRAINT ck_portfolio_snapshots_leverage_non_negative CHECK (((leverage IS NULL) OR (leverage >= (0)::double precision))),
    CONSTRAINT ck_portfolio_snapshots_positions_count_non_negative CHECK ((positions_count >= 0)),
    CONSTRAINT ck_portfolio_snapshots_trade_counts_non_negative CHECK (((trades_today >= 0) AND (wins_today >= 0) AND (losses_today >= 0))),
    CONSTRAINT ck_portfolio_snapshots_wins_losses_le_trades CHECK (((wins_today + losses_today) <= trades_today))
);


--
-- Name: portfolio_snapshots_snapshot_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.portfolio_snapshots_snapshot_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: portfolio_snapshots_snapshot_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.portfolio_snapshots_snapshot_id_seq OWNED BY public.portfolio_snapshots.snapshot_id;


--
-- Name: positions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.positions (
    position_id character varying(64) NOT NULL,
    bot_id character varying(64) NOT NULL,
    ticker character varying(32) NOT NULL,
    side character varying(5) NOT NULL,
    quantity numeric(38,18) NOT NULL,
    entry_price numeric(38,18) NOT NULL,
    current_price numeric(38,18) NOT NULL,
    unrealized_pnl numeric(38,18) NOT NULL,
    unrealized_pnl_pct double precision NOT NULL,
    stop_loss_price numeric(38,18),
    take_profit_price numeric(38,18),
    max_favorable_excursion numeric(38,18),
    max_adverse_excursion numeric(38,18),
    commission numeric(38,18) NOT NULL,
    opened_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    strategy character varying(100),
    signal_score double precision,
    metadata jsonb,
    CONSTRAINT ck_positions_commission_non_negative CHECK ((commission >= (0)::numeric)),
    CONSTRAINT ck_positions_current_price_positive CHECK ((current_price > (0)::numeric)),
    CONSTRAINT ck_positions_entry_price_positive CHECK ((entry_price > (0)::numeric)),
    CONSTRAINT ck_positions_quantity_positive CHECK ((quantity > (0)::numeric)),
    CONSTRAINT ck_positions_side CHECK (((side)::text = ANY ((ARRAY['long'::character varying, 'short'::character varying])::text[]))),
    CONSTRAINT ck_positions_signal_score_range CHECK (((signal_score IS NULL) OR ((signal_score >= (0)::double precision) AND (signal_score <= (1)::double precision)))),
    CONSTRAINT ck_positions_stop_loss_positive CHECK (((stop_loss_price IS NULL) OR (stop_loss_price > (0)::numeric))),
    CONSTRAINT ck_positions_stops_by_side CHECK ((((stop_loss_price IS NULL) OR (((side)::text = 'long'::text) AND (stop_loss_price < entry_price)) OR (((side)::text = 'short'::text) AND (stop_loss_price > entry_price))) AND ((take_profit_price IS NULL) OR (((side)::text = 'long'::text) AND (take_profit_price > entry_price)) OR (((side)::text = 'short'::text) AND (take_profit_price < entry_price))))),
    CONSTRAINT ck_positions_take_profit_positive CHECK (((take_profit_price IS NULL) OR (take_profit_price > (0)::numeric)))
);


--
-- Name: tradestore_alembic_version; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tradestore_alembic_version (
    version_num character varying(32) NOT NULL
);


--
-- Name: training_episodes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.training_episodes (
    episode_id bigint NOT NULL,
    run_id character varying(64) NOT NULL,
    episode_number integer NOT NULL,
    episode_reward double precision,
    episode_length integer,
    episode_time timestamp with time zone,
    mean_action double precision,
    std_action double precision,
    mean_value double precision,
    mean_loss double precision,
    learning_rate double precision,
    exploration_rate double precision,
    CONSTRAINT ck_training_episodes_episode_length_non_negative CHECK (((episode_length IS NULL) OR (episode_length >= 0))),
    CONSTRAINT ck_training_episodes_episode_number_non_negative CHECK ((episode_number >= 0))
);


--
-- Name: training_episodes_episode_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.training_episodes_episode_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: training_episodes_episode_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.training_episodes_episode_id_seq OWNED BY public.training_episodes.episode_id;


--
-- Name: training_runs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.training_runs (
    run_id character varying(64) NOT NULL,
    algorithm character varying(8) NOT NULL,
    model_name character varying(200) NOT NULL,
    start_time timestamp with time zone NOT NULL,
    end_time timestamp with time zone,
    duration_seconds double precision,
    total_timesteps bigint,
    train_start_date date,
    train_end_date date,
    val_start_date date,
    val_end_date date,
    status character varying(9) NOT NULL,
    final_reward double precision,
    best_reward double precision,
    convergence_achieved boolean NOT NULL,
    model_path text,
    tensorboard_log_dir text,
    random_seed bigint,
    device character varying(4) NOT NULL,
    error_message text,
    metadata jsonb,
    created_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    CONSTRAINT ck_training_runs_algorithm CHECK (((algorithm)::text = ANY ((ARRAY['PPO'::character varying, 'SAC'::character varying, 'A2C'::character varying, 'TD3'::character varying, 'DQN'::character varying, 'DDPG'::character varying, 'Ensemble'::character varying])::text[]))),
    CONSTRAINT ck_training_runs_device CHECK (((device)::text = ANY ((ARRAY['cpu'::character varying, 'cuda'::character varying])::text[]))),
    CONSTRAINT ck_training_runs_duration_non_negative CHECK (((duration_seconds IS NULL) OR (duration_seconds >= (0)::double precision))),
    CONSTRAINT ck_training_runs_end_after_start CHECK (((end_time IS NULL) OR (end_time >= start_time))),
    CONSTRAINT ck_training_runs_end_time_iff_finished CHECK ((((status)::text = 'running'::text) = (end_time IS NULL))),
    CONSTRAINT ck_training_runs_model_name_not_empty CHECK (((model_name)::text <> ''::text)),
    CONSTRAINT ck_training_runs_status CHECK (((status)::text = ANY ((ARRAY['running'::character varying, 'completed'::character varying, 'failed'::character varying, 'stopped'::character varying, 'aborted'::character varying])::text[]))),
    CONSTRAINT ck_training_runs_total_timesteps_non_negative CHECK (((total_timesteps IS NULL) OR (total_timesteps >= 0))),
    CONSTRAINT ck_training_runs_train_window CHECK (((train_start_date IS NULL) OR (train_end_date IS NULL) OR (train_end_date >= train_start_date))),
    CONSTRAINT ck_training_runs_val_window CHECK (((val_start_date IS NULL) OR (val_end_date IS NULL) OR (val_end_date >= val_start_date)))
);


--
-- Name: v_agent_leaderboard; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.v_agent_leaderboard AS
 SELECT ap.performance_id,
    tr.run_id,
    tr.algorithm,
    tr.model_name,
    ap.evaluation_type,
    ap.evaluation_date,
    ap.sharpe_ratio,
    ap.total_return_pct,
    ap.max_drawdown_pct,
    ap.win_rate,
    ap.total_trades
   FROM (public.agent_performance ap
     JOIN public.training_runs tr ON (((tr.run_id)::text = (ap.run_id)::text)))
  WHERE (((tr.status)::text = 'completed'::text) AND (NULLIF(ap.sharpe_ratio, 'NaN'::double precision) IS NOT NULL))
  ORDER BY ap.sharpe_ratio DESC, ap.performance_id;


--
-- Name: VIEW v_agent_leaderboard; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON VIEW public.v_agent_leaderboard IS 'Evaluations of completed training runs, best Sharpe ratio first; NaN and NULL Sharpe ratios are not ranked (seed 000).';


--
-- Name: v_current_ensemble; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.v_current_ensemble AS
 SELECT ew.ensemble_id,
    ew.version,
    ew.run_id,
    ew.algorithm,
    tr.model_name,
    ew.weight,
    ew.performance_score,
    ew.sharpe_ratio,
    ew.win_rate,
    ew.weighting_method,
    ew.update_time AS last_updated
   FROM (public.ensemble_weights ew
     JOIN public.training_runs tr ON (((tr.run_id)::text = (ew.run_id)::text)))
  WHERE ew.is_active;


--
-- Name: VIEW v_current_ensemble; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON VIEW public.v_current_ensemble IS 'Active ensemble composition (seed 000).';


--
-- Name: v_equity_curve; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.v_equity_curve AS
 SELECT s.bot_id,
    s.snapshot_date,
    s.snapshot_time,
    s.total_equity,
    s.cash_balance,
    s.daily_pnl,
    s.daily_return_pct,
    s.cumulative_pnl,
    s.cumulative_return_pct
   FROM public.portfolio_snapshots s;


--
-- Name: VIEW v_equity_curve; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON VIEW public.v_equity_curve IS 'Portfolio value over time, one row per bot and day (seed 000).';


--
-- Name: v_hyperparameter_results; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.v_hyperparameter_results AS
 SELECT ap.performance_id,
    hp.run_id,
    hp.algorithm,
    tr.model_name,
    hp.learning_rate,
    hp.batch_size,
    hp.n_steps,
    hp.gamma,
    ap.evaluation_type,
    ap.evaluation_date,
    ap.sharpe_ratio,
    ap.win_rate,
    ap.total_return_pct
   FROM ((public.hyperparameters hp
     JOIN public.agent_performance ap ON (((ap.run_id)::text = (hp.run_id)::text)))
     JOIN public.training_runs tr ON (((tr.run_id)::text = (hp.run_id)::text)))
  ORDER BY (NULLIF(ap.sharpe_ratio, 'NaN'::double precision) IS NULL), NULLIF(ap.sharpe_ratio, 'NaN'::double precision) DESC, ap.performance_id;


--
-- Name: VIEW v_hyperparameter_results; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON VIEW public.v_hyperparameter_results IS 'Hyperparameters with each evaluation of their run, best Sharpe ratio first, NaN and NULL last (seed 000).';


--
-- Name: v_order_fill_stats; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.v_order_fill_stats AS
 SELECT o.bot_id,
    o.order_id,
    o.client_order_id,
    o.ticker,
    o.side,
    o.order_type,
    o.status,
    o.quantity,
    o.filled_quantity,
    count(*) AS num_fills,
    sum(f.quantity) AS fill_quantity,
    ((sum((f.quantity * f.price)) / sum(f.quantity)))::numeric(38,18) AS avg_fill_price,
        CASE
            WHEN ((o.side)::text = 'buy'::text) THEN min(f.price)
            ELSE max(f.price)
        END AS best_fill_price,
        CASE
            WHEN ((o.side)::text = 'buy'::text) THEN max(f.price)
            ELSE min(f.price)
        END AS worst_fill_price,
    sum(f.commission) AS total_commission,
    min(f.filled_at) AS first_fill_at,
    max(f.filled_at) AS last_fill_at
   FROM (public.orders o
     JOIN public.fills f ON (((f.order_id)::text = (o.order_id)::text)))
  GROUP BY o.bot_id, o.order_id, o.client_order_id, o.ticker, o.side, o.order_type, o.status, o.quantity, o.filled_quantity;


--
-- Name: VIEW v_order_fill_stats; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON VIEW public.v_order_fill_stats IS 'Fill statistics per order that has fills: count, VWAP, best and worst price for the order''s side (seed 000).';


--
-- Name: v_paper_active_positions; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.v_paper_active_positions AS
 SELECT open_positions.bot_id,
    open_positions.position_id,
    open_positions.ticker,
    open_positions.side,
    open_positions.quantity,
    open_positions.signed_quantity,
    open_positions.entry_price,
    open_positions.current_price,
    open_positions.market_value,
    open_positions.unrealized_pnl,
    open_positions.unrealized_pnl_pct,
    open_positions.realized_pnl,
    (open_positions.unrealized_pnl + open_positions.realized_pnl) AS total_pnl,
    open_positions.strategy,
    open_positions.opened_at,
    open_positions.updated_at
   FROM ( SELECT p.bot_id,
            p.position_id,
            p.ticker,
            p.side,
            p.quantity,
                CASE
                    WHEN ((p.side)::text = 'short'::text) THEN (- p.quantity)
                    ELSE p.quantity
                END AS signed_quantity,
            p.entry_price,
            p.current_price,
            ((p.quantity * p.current_price))::numeric(38,18) AS market_value,
            p.unrealized_pnl,
            p.unrealized_pnl_pct,
            COALESCE(( SELECT sum(cp.realized_pnl) AS sum
                   FROM public.closed_positions cp
                  WHERE ((cp.position_id)::text = (p.position_id)::text)), (0)::numeric) AS realized_pnl,
            p.strategy,
            p.opened_at,
            p.updated_at
           FROM public.positions p) open_positions;


--
-- Name: VIEW v_paper_active_positions; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON VIEW public.v_paper_active_positions IS 'Open positions with unrealized, realized (closed parts) and total P&L (seed 003).';


--
-- Name: v_paper_daily_summary; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.v_paper_daily_summary AS
 SELECT o.bot_id,
    ((o.submitted_at AT TIME ZONE 'UTC'::text))::date AS trade_date,
    o.ticker,
    count(*) AS total_orders,
    sum(
        CASE
            WHEN ((o.status)::text = 'filled'::text) THEN 1
            ELSE 0
        END) AS filled_orders,
    sum(
        CASE
            WHEN ((o.status)::text = 'partially_filled'::text) THEN 1
            ELSE 0
        END) AS partially_filled_orders,
    sum(
        CASE
            WHEN ((o.status)::text = 'cancelled'::text) THEN 1
            ELSE 0
        END) AS cancelled_orders,
    sum(
        CASE
            WHEN ((o.status)::text = 'rejected'::text) THEN 1
            ELSE 0
        END) AS rejected_orders,
    ((sum(
        CASE
            WHEN ((o.status)::text = 'filled'::text) THEN 1
            ELSE 0
        END))::double precision / (count(*))::double precision) AS fill_rate,
    sum(o.filled_quantity) AS filled_quantity,
    (sum((o.filled_quantity * o.filled_avg_price)))::numeric(38,18) AS filled_notional,
    avg(o.slippage) AS avg_slippage,
    sum(o.commission) AS total_commission
   FROM public.orders o
  GROUP BY o.bot_id, (((o.submitted_at AT TIME ZONE 'UTC'::text))::date), o.ticker;


--
-- Name: VIEW v_paper_daily_summary; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON VIEW public.v_paper_daily_summary IS 'Orders per bot, UTC trading day and ticker (seed 003).';


--
-- Name: v_paper_recent_orders; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.v_paper_recent_orders AS
 SELECT o.bot_id,
    o.order_id,
    o.client_order_id,
    o.ticker,
    o.side,
    o.order_type,
    o.quantity,
    o.limit_price,
    o.status,
    o.filled_quantity,
    o.filled_avg_price,
    o.slippage,
    o.commission,
    o.submitted_at,
    o.filled_at
   FROM public.orders o
  WHERE (o.submitted_at >= (now() - '24:00:00'::interval));


--
-- Name: VIEW v_paper_recent_orders; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON VIEW public.v_paper_recent_orders IS 'Orders submitted in the last 24 hours (seed 003).';


--
-- Name: v_performance_summary; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.v_performance_summary AS
 SELECT m.bot_id,
    m.metric_date,
    m.strategy,
    m.sharpe_ratio,
    m.sortino_ratio,
    m.calmar_ratio,
    m.max_drawdown,
    m.max_drawdown_pct,
    m.current_drawdown,
    m.current_drawdown_pct,
    m.days_in_drawdown,
    m.return_1d,
    m.return_7d,
    m.return_30d,
    m.volatility_annualized,
    m.total_trades_30d,
    m.winning_trades_30d,
    m.win_rate_30d AS win_rate,
    m.profit_factor_30d AS profit_factor,
    m.expectancy_30d
   FROM public.performance_metrics m
  WHERE (m.metric_date >= (((now() AT TIME ZONE 'UTC'::text))::date - 30));


--
-- Name: VIEW v_performance_summary; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON VIEW public.v_performance_summary IS 'Performance metrics of the last 30 days (seed 000).';


--
-- Name: v_position_summary; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.v_position_summary AS
 SELECT p.bot_id,
    p.position_id,
    p.ticker,
    p.side,
    p.quantity,
    p.entry_price,
    p.current_price,
    p.unrealized_pnl,
    p.unrealized_pnl_pct,
    (
        CASE
            WHEN ((p.side)::text = 'short'::text) THEN ((p.entry_price - p.current_price) * p.quantity)
            ELSE ((p.current_price - p.entry_price) * p.quantity)
        END)::numeric(38,18) AS pnl_dollars,
    p.strategy,
    p.opened_at,
    to_char((p.opened_at AT TIME ZONE 'UTC'::text), 'YYYY-MM-DD HH24:MI:SS'::text) AS opened_datetime,
    ((EXTRACT(epoch FROM (now() - p.opened_at)) / (3600)::numeric))::double precision AS hours_held
   FROM public.positions p;


--
-- Name: VIEW v_position_summary; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON VIEW public.v_position_summary IS 'Open positions with calculated fields (seed 000).';


--
-- Name: v_recent_closed_trades; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.v_recent_closed_trades AS
 SELECT b.bot_id,
    cp.closed_position_id,
    cp.position_id,
    cp.ticker,
    cp.side,
    cp.quantity,
    cp.entry_price,
    cp.exit_price,
    cp.realized_pnl,
    cp.realized_pnl_pct,
    cp.exit_reason,
    cp.holding_period_hours,
    cp.strategy,
    cp.opened_at,
    cp.closed_at,
    to_char((cp.closed_at AT TIME ZONE 'UTC'::text), 'YYYY-MM-DD HH24:MI:SS'::text) AS closed_datetime,
        CASE
            WHEN (cp.realized_pnl > (0)::numeric) THEN 'WIN'::text
            WHEN (cp.realized_pnl < (0)::numeric) THEN 'LOSS'::text
            ELSE 'BREAKEVEN'::text
        END AS outcome
   FROM (public.bots b
     CROSS JOIN LATERAL ( SELECT x.closed_position_id,
            x.position_id,
            x.bot_id,
            x.ticker,
            x.side,
            x.quantity,
            x.entry_price,
            x.exit_price,
            x.current_price,
            x.realized_pnl,
            x.realized_pnl_pct,
            x.stop_loss_price,
            x.take_profit_price,
            x.opened_at,
            x.closed_at,
            x.updated_at,
            x.holding_period_hours,
            x.exit_reason,
            x.commission,
            x.slippage,
            x.max_favorable_excursion,
            x.max_adverse_excursion,
            x.strategy,
            x.signal_score,
            x.metadata
           FROM public.closed_positions x
          WHERE ((x.bot_id)::text = (b.bot_id)::text)
          ORDER BY x.closed_at DESC, x.closed_position_id DESC
         LIMIT 100) cp);


--
-- Name: VIEW v_recent_closed_trades; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON VIEW public.v_recent_closed_trades IS 'The last 100 closed trades of each bot with outcome WIN/LOSS/BREAKEVEN (seed 000).';


--
-- Name: v_recent_orders; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.v_recent_orders AS
 SELECT b.bot_id,
    o.order_id,
    o.client_order_id,
    o.ticker,
    o.side,
    o.order_type,
    o.quantity,
    o.limit_price,
    o.stop_price,
    o.time_in_force,
    o.status,
    o.filled_quantity,
    o.filled_avg_price,
    o.commission,
    o.slippage,
    o.strategy,
    o.position_id,
    o.submitted_at,
    to_char((o.submitted_at AT TIME ZONE 'UTC'::text), 'YYYY-MM-DD HH24:MI:SS'::text) AS submitted_datetime,
    o.filled_at,
    to_char((o.filled_at AT TIME ZONE 'UTC'::text), 'YYYY-MM-DD HH24:MI:SS'::text) AS filled_datetime
   FROM (public.bots b
     CROSS JOIN LATERAL ( SELECT x.order_id,
            x.bot_id,
            x.client_order_id,
            x.broker_order_id,
            x.ticker,
            x.order_type,
            x.side,
            x.quantity,
            x.limit_price,
            x.stop_price,
            x.reference_price,
            x.time_in_force,
            x.status,
            x.submitted_at,
            x.accepted_at,
            x.filled_at,
            x.cancelled_at,
            x.rejected_at,
            x.expired_at,
            x.updated_at,
            x.filled_quantity,
            x.filled_avg_price,
            x.commission,
            x.slippage,
            x.position_id,
            x.strategy,
            x.reject_reason,
            x.metadata
           FROM public.orders x
          WHERE ((x.bot_id)::text = (b.bot_id)::text)
          ORDER BY x.submitted_at DESC, x.order_id DESC
         LIMIT 100) o);


--
-- Name: VIEW v_recent_orders; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON VIEW public.v_recent_orders IS 'The last 100 orders of each bot with formatted timestamps (seed 000).';


--
-- Name: v_training_summary; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.v_training_summary AS
 SELECT tr.run_id,
    tr.algorithm,
    tr.model_name,
    tr.status,
    tr.start_time,
    tr.end_time,
    (COALESCE(tr.duration_seconds, (EXTRACT(epoch FROM (tr.end_time - tr.start_time)))::double precision) / (3600.0)::double precision) AS duration_hours,
    tr.total_timesteps,
    tr.final_reward,
    tr.best_reward,
    ev.evaluation_type,
    ev.sharpe_ratio,
    ev.win_rate,
    ev.total_return_pct,
    hp.learning_rate
   FROM ((public.training_runs tr
     LEFT JOIN ( SELECT ap.run_id,
            ap.evaluation_type,
            ap.sharpe_ratio,
            ap.win_rate,
            ap.total_return_pct,
            row_number() OVER (PARTITION BY ap.run_id ORDER BY
                CASE
                    WHEN ((ap.evaluation_type)::text = 'validation'::text) THEN 0
                    ELSE 1
                END, ap.evaluation_date DESC, ap.performance_id DESC) AS pick
           FROM public.agent_performance ap) ev ON ((((ev.run_id)::text = (tr.run_id)::text) AND (ev.pick = 1))))
     LEFT JOIN public.hyperparameters hp ON (((hp.run_id)::text = (tr.run_id)::text)));


--
-- Name: VIEW v_training_summary; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON VIEW public.v_training_summary IS 'One row per training run with its learning rate and the metrics of its latest validation evaluation, else its latest evaluation of any type (seed 000).';


--
-- Name: agent_performance performance_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_performance ALTER COLUMN performance_id SET DEFAULT nextval('public.agent_performance_performance_id_seq'::regclass);


--
-- Name: closed_positions closed_position_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.closed_positions ALTER COLUMN closed_position_id SET DEFAULT nextval('public.closed_positions_closed_position_id_seq'::regclass);


--
-- Name: ensemble_weights weight_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ensemble_weights ALTER COLUMN weight_id SET DEFAULT nextval('public.ensemble_weights_weight_id_seq'::regclass);


--
-- Name: hyperparameters hyperparameter_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.hyperparameters ALTER COLUMN hyperparameter_id SET DEFAULT nextval('public.hyperparameters_hyperparameter_id_seq'::regclass);


--
-- Name: migration_history history_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.migration_history ALTER COLUMN history_id SET DEFAULT nextval('public.migration_history_history_id_seq'::regclass);


--
-- Name: performance_metrics metric_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.performance_metrics ALTER COLUMN metric_id SET DEFAULT nextval('public.performance_metrics_metric_id_seq'::regclass);


--
-- Name: portfolio_snapshots snapshot_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.portfolio_snapshots ALTER COLUMN snapshot_id SET DEFAULT nextval('public.portfolio_snapshots_snapshot_id_seq'::regclass);


--
-- Name: training_episodes episode_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.training_episodes ALTER COLUMN episode_id SET DEFAULT nextval('public.training_episodes_episode_id_seq'::regclass);


--
-- Data for Name: agent_performance; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.agent_performance (performance_id, run_id, evaluation_date, evaluation_type, data_period_start, data_period_end, num_episodes, total_return, total_return_pct, annualized_return, cumulative_reward, avg_episode_reward, sharpe_ratio, sortino_ratio, calmar_ratio, max_drawdown, max_drawdown_pct, volatility, downside_deviation, total_trades, winning_trades, losing_trades, win_rate, avg_win, avg_loss, profit_factor, expectancy, largest_win, largest_loss, buy_and_hold_return, excess_return, information_ratio, avg_action_entropy, avg_value_estimate, policy_stability, created_at) FROM stdin;
1	run_26c1f61b9d9c4f28a462b511f4449831	2026-11-09	validation	\N	\N	\N	\N	7.199869894398604	\N	\N	\N	1.3132965791396192	\N	\N	\N	-4.902465756529657	\N	\N	120	\N	\N	0.6954717044679188	\N	\N	\N	\N	\N	\N	\N	\N	\N	\N	\N	\N	2026-11-13 22:00:00+00
2	run_26c1f61b9d9c4f28a462b511f4449831	2026-11-10	test	\N	\N	\N	\N	6.326297040716992	\N	\N	\N	1.6369566006716236	\N	\N	\N	-1.6019736327932455	\N	\N	120	\N	\N	0.6819979439948025	\N	\N	\N	\N	\N	\N	\N	\N	\N	\N	\N	\N	2026-11-13 22:00:00+00
3	run_9fe7c00daf084dfe83489acaa7dfa4e7	2026-11-09	validation	\N	\N	\N	\N	7.837766865070952	\N	\N	\N	1.3489610351782222	\N	\N	\N	-4.578610069899923	\N	\N	120	\N	\N	0.6757552812742748	\N	\N	\N	\N	\N	\N	\N	\N	\N	\N	\N	\N	2026-11-13 22:00:00+00
4	run_9fe7c00daf084dfe83489acaa7dfa4e7	2026-11-10	test	\N	\N	\N	\N	0.4862948065683712	\N	\N	\N	1.1395078854889387	\N	\N	\N	-1.35469724459644	\N	\N	120	\N	\N	0.5850385949416516	\N	\N	\N	\N	\N	\N	\N	\N	\N	\N	\N	\N	2026-11-13 22:00:00+00
\.


--
-- Data for Name: bots; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.bots (bot_id, name, mode, broker, status, config_file, started_at, ended_at, last_heartbeat, starting_balance, current_balance, total_pnl, total_commission, config, metadata, notes, created_at, updated_at) FROM stdin;
alpha-frozen	\N	paper	demo-equities	stopped	\N	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00	100000.000000000000000000	100509.900000000000000000	509.900000000000000000	24.100000000000000000	{"universe": ["AAPL", "TSLA"]}	\N	\N	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
beta-frozen	\N	paper	demo-crypto	stopped	\N	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00	100000.000000000000000000	99946.800000000000000000	-53.197191355000000000	36.190000000000000000	{"universe": ["BTC", "ETH"]}	\N	\N	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
\.


--
-- Data for Name: closed_positions; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.closed_positions (closed_position_id, position_id, bot_id, ticker, side, quantity, entry_price, exit_price, current_price, realized_pnl, realized_pnl_pct, stop_loss_price, take_profit_price, opened_at, closed_at, updated_at, holding_period_hours, exit_reason, commission, slippage, max_favorable_excursion, max_adverse_excursion, strategy, signal_score, metadata) FROM stdin;
1	pos_f123b3b9fe664172986a22a9e07b2f67	alpha-frozen	TSLA	short	20.000000000000000000	250.000000000000000000	241.800000000000000000	241.800000000000000000	159.080000000000000000	3.1816	260.000000000000000000	242.500000000000000000	2026-11-09 14:40:00+00	2026-11-11 20:00:00+00	2026-11-11 20:00:00+00	53.333333333333336	take_profit	4.920000000000000000	\N	241.800000000000000000	250.000000000000000000	demo_mean_reversion	0.64	\N
2	pos_dc538e036b5045709e1afd4b9435f19c	beta-frozen	BTC-USD	long	0.350000000000000000	65000.123456780000000000	67120.250000000000000000	67120.250000000000000000	718.914290127000000000	3.160056811738307	61750.120000000000000000	66950.130000000000000000	2026-11-09 15:05:00+00	2026-11-11 20:00:00+00	2026-11-11 20:00:00+00	52.916666666666664	take_profit	23.130000000000000000	\N	67120.250000000000000000	65000.123456780000000000	demo_trend	0.71	\N
3	pos_5f114d466c954441a3563bf79e7d4c89	alpha-frozen	AAPL	long	40.000000000000000000	189.970000000000000000	193.100000000000000000	193.100000000000000000	117.540000000000000000	1.54682318260778	182.000000000000000000	196.000000000000000000	2026-11-09 14:35:00+00	2026-11-12 20:00:00+00	2026-11-12 20:00:00+00	77.41666666666667	manual	7.660000000000000000	\N	193.100000000000000000	189.400000000000000000	demo_momentum	0.82	{"signal": "breakout", "timeframe": "1d"}
4	pos_5f114d466c954441a3563bf79e7d4c89	alpha-frozen	AAPL	long	60.000000000000000000	189.970000000000000000	194.050000000000000000	194.050000000000000000	233.280000000000000000	2.046638942990999	182.000000000000000000	196.000000000000000000	2026-11-09 14:35:00+00	2026-11-13 20:00:00+00	2026-11-13 20:00:00+00	101.41666666666667	time_exit	11.520000000000000000	\N	194.050000000000000000	189.400000000000000000	demo_momentum	0.82	{"signal": "breakout", "timeframe": "1d"}
5	pos_40d5843cb27f4656af4efbba3009e56b	beta-frozen	ETH-USD	long	4.200000000000000000	3200.876543210000000000	3020.150000000000000000	3020.150000000000000000	-772.111481482000000000	-5.743303889976455	3040.830000000000000000	3296.900000000000000000	2026-11-09 15:05:00+00	2026-11-13 20:00:00+00	2026-11-13 20:00:00+00	100.91666666666667	stop_loss	13.060000000000000000	\N	3200.876543210000000000	3020.150000000000000000	demo_trend	0.71	\N
\.


--
-- Data for Name: ensemble_weights; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.ensemble_weights (weight_id, ensemble_id, version, update_time, update_date, run_id, algorithm, weight, performance_score, sharpe_ratio, win_rate, is_active, weighting_method, lookback_days) FROM stdin;
1	demo-frozen	1	2026-11-10 06:00:00+00	2026-11-10	run_26c1f61b9d9c4f28a462b511f4449831	PPO	0.6	\N	1.3132965791396192	0.6954717044679188	f	sharpe_weighted	30
2	demo-frozen	1	2026-11-10 06:00:00+00	2026-11-10	run_9fe7c00daf084dfe83489acaa7dfa4e7	SAC	0.4	\N	1.3489610351782222	0.6757552812742748	f	sharpe_weighted	30
3	demo-frozen	2	2026-11-13 06:00:00+00	2026-11-13	run_26c1f61b9d9c4f28a462b511f4449831	PPO	0.45	\N	1.3132965791396192	0.6954717044679188	t	sharpe_weighted	30
4	demo-frozen	2	2026-11-13 06:00:00+00	2026-11-13	run_9fe7c00daf084dfe83489acaa7dfa4e7	SAC	0.55	\N	1.3489610351782222	0.6757552812742748	t	sharpe_weighted	30
\.


--
-- Data for Name: fills; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.fills (bot_id, fill_id, order_id, ticker, side, quantity, price, filled_at, liquidity, commission, position_id) FROM stdin;
alpha-frozen	f-aapl-1	4a4724bf7d64413d8c2ff3302f051967	AAPL	buy	60.000000000000000000	189.950000000000000000	2026-11-09 14:32:00+00	maker	5.700000000000000000	\N
alpha-frozen	f-aapl-2	4a4724bf7d64413d8c2ff3302f051967	AAPL	buy	40.000000000000000000	190.000000000000000000	2026-11-09 14:33:00+00	maker	3.800000000000000000	\N
alpha-frozen	f-tsla-1	773b202edecf43018216f3b42eaed5bf	TSLA	sell	20.000000000000000000	250.000000000000000000	2026-11-09 14:32:00+00	taker	2.500000000000000000	\N
alpha-frozen	f-msft-late-1	5f6d31d436bc40c1be3cf6de3481567b	MSFT	buy	4.000000000000000000	380.000000000000000000	2026-11-09 20:59:00+00	maker	0.760000000000000000	\N
alpha-frozen	f-aapl-scale-1	51877e4a294d495696861eb9f9bd1895	AAPL	buy	12.500000000000000000	189.500000000000000000	2026-11-10 14:40:00+00	maker	1.180000000000000000	\N
alpha-frozen	f-aapl-scale-late	51877e4a294d495696861eb9f9bd1895	AAPL	buy	2.500000000000000000	189.490000000000000000	2026-11-10 19:59:00+00	maker	0.240000000000000000	\N
beta-frozen	f-BTC-USD-1	37b0bf0266654016ac7ab3655edd8d84	BTC-USD	buy	0.350000000000000000	65000.123456780000000000	2026-11-09 14:32:00+00	taker	11.380000000000000000	\N
beta-frozen	f-ETH-USD-1	1639dffff89f46f2867ad722b358491f	ETH-USD	buy	4.200000000000000000	3200.876543210000000000	2026-11-09 14:32:00+00	taker	6.720000000000000000	\N
alpha-frozen	f-TSLA-exit-2	744313d2d87544249172317228b05ded	TSLA	buy	20.000000000000000000	241.800000000000000000	2026-11-11 14:32:00+00	taker	2.420000000000000000	pos_f123b3b9fe664172986a22a9e07b2f67
beta-frozen	f-BTC-USD-exit-2	5b4a77005104414f8c01f1a3220e6477	BTC-USD	sell	0.350000000000000000	67120.250000000000000000	2026-11-11 14:32:00+00	taker	11.750000000000000000	pos_dc538e036b5045709e1afd4b9435f19c
alpha-frozen	f-AAPL-exit-3	2da472d6c42a4793ba605b4ca21f95f9	AAPL	sell	40.000000000000000000	193.100000000000000000	2026-11-12 14:32:00+00	taker	3.860000000000000000	pos_5f114d466c954441a3563bf79e7d4c89
alpha-frozen	f-AAPL-exit-4	dd74b8308d634277a3d849d776074a0c	AAPL	sell	60.000000000000000000	194.050000000000000000	2026-11-13 14:32:00+00	taker	5.820000000000000000	pos_5f114d466c954441a3563bf79e7d4c89
beta-frozen	f-ETH-USD-exit-4	b21ee1acf4df48bc9519bd4a30220c99	ETH-USD	sell	4.200000000000000000	3020.150000000000000000	2026-11-13 14:32:00+00	taker	6.340000000000000000	pos_40d5843cb27f4656af4efbba3009e56b
alpha-frozen	f-MSFT-weekend	fe4ce6d4251040268eb0fe9214734cf0	MSFT	sell	15.000000000000000000	392.400000000000000000	2026-11-13 14:32:00+00	taker	2.940000000000000000	\N
beta-frozen	f-BTC-USD-weekend	3ebead9541f04bdda3d593ce0f290b88	BTC-USD	buy	0.125000000000000000	67350.750000000000000000	2026-11-13 14:32:00+00	taker	4.210000000000000000	\N
\.


--
-- Data for Name: hyperparameters; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.hyperparameters (hyperparameter_id, run_id, algorithm, learning_rate, batch_size, n_steps, gamma, policy_type, net_arch, activation_fn, n_epochs, buffer_size, tau, ent_coef, vf_coef, max_grad_norm, reward_function, reward_scaling, transaction_cost_pct, slippage_pct, params_json) FROM stdin;
1	run_26c1f61b9d9c4f28a462b511f4449831	PPO	0.0003	64	\N	0.99	\N	{"pi": [64, 64], "vf": [64, 64]}	\N	\N	\N	\N	\N	\N	\N	\N	\N	\N	\N	{"gamma": 0.99, "net_arch": {"pi": [64, 64], "vf": [64, 64]}, "batch_size": 64, "learning_rate": 0.0003}
2	run_9fe7c00daf084dfe83489acaa7dfa4e7	SAC	0.001	64	\N	0.99	\N	{"pi": [64, 64], "vf": [64, 64]}	\N	\N	\N	\N	\N	\N	\N	\N	\N	\N	\N	{"gamma": 0.99, "net_arch": {"pi": [64, 64], "vf": [64, 64]}, "batch_size": 64, "learning_rate": 0.001}
\.


--
-- Data for Name: migration_history; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.migration_history (history_id, migration_id, migration_name, database_path, applied_at, applied_date, duration_seconds, status, error_message) FROM stdin;
1	0001	Bots and positions: bots, positions, closed_positions.	frozen 0.1.0 postgresql	2026-11-13 22:00:00+00	2026-11-13	0	applied	\N
2	0002	Trading: orders, fills, portfolio_snapshots, performance_metrics.	frozen 0.1.0 postgresql	2026-11-13 22:00:00+00	2026-11-13	0	applied	\N
3	0003	ML training: training_runs, hyperparameters, training_episodes, agent_performance, ensemble_weights.	frozen 0.1.0 postgresql	2026-11-13 22:00:00+00	2026-11-13	0	applied	\N
4	0004	Read side: seed 000's ten views, seed 003's three views and two functions, query indexes.	frozen 0.1.0 postgresql	2026-11-13 22:00:00+00	2026-11-13	0	applied	\N
\.


--
-- Data for Name: orders; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.orders (order_id, bot_id, client_order_id, broker_order_id, ticker, order_type, side, quantity, limit_price, stop_price, reference_price, time_in_force, status, submitted_at, accepted_at, filled_at, cancelled_at, rejected_at, expired_at, updated_at, filled_quantity, filled_avg_price, commission, slippage, position_id, strategy, reject_reason, metadata) FROM stdin;
4a4724bf7d64413d8c2ff3302f051967	alpha-frozen	alpha-frozen-aapl-entry	\N	AAPL	limit	buy	100.000000000000000000	190.000000000000000000	\N	190.000000000000000000	day	filled	2026-11-09 14:30:00+00	2026-11-09 14:31:00+00	2026-11-09 14:33:00+00	\N	\N	\N	2026-11-09 13:00:05+00	100.000000000000000000	189.970000000000000000	9.500000000000000000	-0.030000000000000000	\N	demo_momentum	\N	\N
773b202edecf43018216f3b42eaed5bf	alpha-frozen	alpha-frozen-tsla-short	\N	TSLA	market	sell	20.000000000000000000	\N	\N	\N	day	filled	2026-11-09 14:30:00+00	2026-11-09 14:31:00+00	2026-11-09 14:32:00+00	\N	\N	\N	2026-11-09 13:00:10+00	20.000000000000000000	250.000000000000000000	2.500000000000000000	\N	\N	demo_momentum	\N	\N
5f6d31d436bc40c1be3cf6de3481567b	alpha-frozen	alpha-frozen-msft-dip	\N	MSFT	limit	buy	10.000000000000000000	380.000000000000000000	\N	\N	day	cancelled	2026-11-09 15:00:00+00	2026-11-09 15:01:00+00	\N	2026-11-09 21:00:00+00	\N	\N	2026-11-09 13:00:15+00	4.000000000000000000	380.000000000000000000	0.760000000000000000	0.000000000000000000	\N	\N	\N	\N
51877e4a294d495696861eb9f9bd1895	alpha-frozen	alpha-frozen-aapl-scale	\N	AAPL	limit	buy	30.000000000000000000	189.500000000000000000	\N	189.600000000000000000	day	cancelled	2026-11-10 14:30:00+00	2026-11-10 14:31:00+00	\N	2026-11-10 20:00:00+00	\N	\N	2026-11-09 13:00:20+00	15.000000000000000000	189.498333333333333333	1.420000000000000000	-0.101666666666666667	\N	demo_momentum	\N	{"note": "scale-in"}
ee39ee03d78a425fb27c0181a6cc4dc0	alpha-frozen	alpha-frozen-tsla-stop	\N	TSLA	stop	buy	20.000000000000000000	\N	265.000000000000000000	\N	day	expired	2026-11-10 15:00:00+00	2026-11-10 15:01:00+00	\N	\N	\N	2026-11-10 21:00:00+00	2026-11-09 13:00:23+00	0.000000000000000000	\N	0.000000000000000000	\N	\N	\N	\N	\N
29546a95eb6049c58d8484634d70b56c	alpha-frozen	alpha-frozen-msft-big	\N	MSFT	market	buy	10000.000000000000000000	\N	\N	\N	day	rejected	2026-11-11 14:30:00+00	\N	\N	\N	2026-11-11 14:30:00+00	\N	2026-11-09 13:00:25+00	0.000000000000000000	\N	0.000000000000000000	\N	\N	\N	insufficient buying power	\N
37b0bf0266654016ac7ab3655edd8d84	beta-frozen	beta-frozen-BTC-USD-entry	\N	BTC-USD	market	buy	0.350000000000000000	\N	\N	\N	day	filled	2026-11-09 14:30:00+00	2026-11-09 14:31:00+00	2026-11-09 14:32:00+00	\N	\N	\N	2026-11-09 13:00:29+00	0.350000000000000000	65000.123456780000000000	11.380000000000000000	\N	\N	demo_momentum	\N	\N
1639dffff89f46f2867ad722b358491f	beta-frozen	beta-frozen-ETH-USD-entry	\N	ETH-USD	market	buy	4.200000000000000000	\N	\N	\N	day	filled	2026-11-09 14:30:00+00	2026-11-09 14:31:00+00	2026-11-09 14:32:00+00	\N	\N	\N	2026-11-09 13:00:34+00	4.200000000000000000	3200.876543210000000000	6.720000000000000000	\N	\N	demo_momentum	\N	\N
744313d2d87544249172317228b05ded	alpha-frozen	alpha-frozen-TSLA-exit-2	\N	TSLA	market	buy	20.000000000000000000	\N	\N	\N	day	filled	2026-11-11 14:30:00+00	2026-11-11 14:31:00+00	2026-11-11 14:32:00+00	\N	\N	\N	2026-11-09 13:00:44+00	20.000000000000000000	241.800000000000000000	2.420000000000000000	\N	pos_f123b3b9fe664172986a22a9e07b2f67	demo_momentum	\N	\N
5b4a77005104414f8c01f1a3220e6477	beta-frozen	beta-frozen-BTC-USD-exit-2	\N	BTC-USD	market	sell	0.350000000000000000	\N	\N	\N	day	filled	2026-11-11 14:30:00+00	2026-11-11 14:31:00+00	2026-11-11 14:32:00+00	\N	\N	\N	2026-11-09 13:00:49+00	0.350000000000000000	67120.250000000000000000	11.750000000000000000	\N	pos_dc538e036b5045709e1afd4b9435f19c	demo_momentum	\N	\N
2da472d6c42a4793ba605b4ca21f95f9	alpha-frozen	alpha-frozen-AAPL-exit-3	\N	AAPL	market	sell	40.000000000000000000	\N	\N	\N	day	filled	2026-11-12 14:30:00+00	2026-11-12 14:31:00+00	2026-11-12 14:32:00+00	\N	\N	\N	2026-11-09 13:00:54+00	40.000000000000000000	193.100000000000000000	3.860000000000000000	\N	pos_5f114d466c954441a3563bf79e7d4c89	demo_momentum	\N	\N
dd74b8308d634277a3d849d776074a0c	alpha-frozen	alpha-frozen-AAPL-exit-4	\N	AAPL	market	sell	60.000000000000000000	\N	\N	\N	day	filled	2026-11-13 14:30:00+00	2026-11-13 14:31:00+00	2026-11-13 14:32:00+00	\N	\N	\N	2026-11-09 13:01:01+00	60.000000000000000000	194.050000000000000000	5.820000000000000000	\N	pos_5f114d466c954441a3563bf79e7d4c89	demo_momentum	\N	\N
b21ee1acf4df48bc9519bd4a30220c99	beta-frozen	beta-frozen-ETH-USD-exit-4	\N	ETH-USD	market	sell	4.200000000000000000	\N	\N	\N	day	filled	2026-11-13 14:30:00+00	2026-11-13 14:31:00+00	2026-11-13 14:32:00+00	\N	\N	\N	2026-11-09 13:01:06+00	4.200000000000000000	3020.150000000000000000	6.340000000000000000	\N	pos_40d5843cb27f4656af4efbba3009e56b	demo_momentum	\N	\N
fe4ce6d4251040268eb0fe9214734cf0	alpha-frozen	alpha-frozen-MSFT-weekend	\N	MSFT	market	sell	15.000000000000000000	\N	\N	\N	day	filled	2026-11-13 14:30:00+00	2026-11-13 14:31:00+00	2026-11-13 14:32:00+00	\N	\N	\N	2026-11-09 13:01:10+00	15.000000000000000000	392.400000000000000000	2.940000000000000000	\N	\N	demo_momentum	\N	\N
3ebead9541f04bdda3d593ce0f290b88	beta-frozen	beta-frozen-BTC-USD-weekend	\N	BTC-USD	market	buy	0.125000000000000000	\N	\N	\N	day	filled	2026-11-13 14:30:00+00	2026-11-13 14:31:00+00	2026-11-13 14:32:00+00	\N	\N	\N	2026-11-09 13:01:16+00	0.125000000000000000	67350.750000000000000000	4.210000000000000000	\N	\N	demo_momentum	\N	\N
\.


--
-- Data for Name: performance_metrics; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.performance_metrics (metric_id, bot_id, metric_date, strategy, sharpe_ratio, sortino_ratio, calmar_ratio, omega_ratio, max_drawdown, max_drawdown_pct, current_drawdown, current_drawdown_pct, days_in_drawdown, return_1d, return_7d, return_30d, return_ytd, return_inception, volatility_daily, volatility_annualized, downside_deviation, total_trades_30d, winning_trades_30d, losing_trades_30d, win_rate_30d, avg_win_30d, avg_loss_30d, profit_factor_30d, expectancy_30d, benchmark_return, alpha, beta, correlation_to_benchmark, created_at, updated_at) FROM stdin;
1	alpha-frozen	2026-11-09	all	\N	\N	\N	\N	0.000000000000000000	0	0.000000000000000000	0	0	\N	\N	\N	0	-0.009	\N	\N	\N	0	0	0	\N	\N	\N	\N	\N	\N	\N	\N	\N	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
2	beta-frozen	2026-11-09	all	\N	\N	\N	\N	0.000000000000000000	0	0.000000000000000000	0	0	\N	\N	\N	0	-0.0181	\N	\N	\N	0	0	0	\N	\N	\N	\N	\N	\N	\N	\N	\N	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
3	alpha-frozen	2026-11-10	all	\N	\N	\N	\N	0.000000000000000000	0	0.000000000000000000	0	0	0.17401566140952685	\N	\N	0.17401566140952685	0.165	\N	\N	\N	0	0	0	\N	\N	\N	\N	\N	\N	\N	\N	\N	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
4	beta-frozen	2026-11-10	all	\N	\N	\N	\N	0.000000000000000000	0	0.000000000000000000	0	0	0.09838780819328298	\N	\N	0.09838780819328298	0.08027	\N	\N	\N	0	0	0	\N	\N	\N	\N	\N	\N	\N	\N	\N	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
5	alpha-frozen	2026-11-11	all	4.635289116379985	15.791652174907643	188.76966345618422	2.4068321907049515	72.420000000000000000	0.0723007038386662	72.420000000000000000	0.0723007038386662	1	-0.0723007038386662	\N	\N	0.10158914302287206	0.09258	0.17417197218421976	2.7648943425426293	0.8115733877607014	1	1	0	1	159.080000000000000000	\N	\N	159.080000000000000000	\N	\N	\N	\N	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
6	beta-frozen	2026-11-11	all	30.235229167975923	\N	\N	\N	0.000000000000000000	0	0.000000000000000000	0	0	0.2145777584333056	\N	\N	0.31317668497998136	0.29502	0.0821587017204475	1.3042289567534318	0	1	1	0	1	718.914290127000000000	\N	\N	718.914290127000000000	\N	\N	\N	\N	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
7	alpha-frozen	2026-11-12	all	11.264501123538412	59.26439754029953	663.8160954155175	7.466275898675649	72.420000000000000000	0.0723007038386662	0.000000000000000000	0	0	0.3658013411183926	\N	\N	0.467762098588873	0.45872	0.21961591492346724	3.4862945690364784	0.6626468962785443	2	2	0	1	138.310000000000000000	\N	\N	138.310000000000000000	\N	\N	\N	\N	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
8	beta-frozen	2026-11-12	all	10.089881857115174	42.92318978683143	438.7046402479716	5.683303958740726	55.230000000000000000	0.055067539744246524	55.230000000000000000	0.055067539744246524	1	-0.055067539744246524	\N	\N	0.2579366865402638	0.23979	0.1352511461298746	2.147045383176626	0.5047023384259978	1	1	0	1	718.914290127000000000	\N	\N	718.914290127000000000	\N	\N	\N	\N	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
9	alpha-frozen	2026-11-13	all	11.013255365194327	56.917416779092804	533.2472233910172	8.170920479318786	72.420000000000000000	0.0723007038386662	0.000000000000000000	0	0	0.050946299136600585	\N	\N	0.5189467052034683	0.5099	0.18682801575692456	2.965802805794875	0.5738690459161313	3	3	0	1	169.966666666666666667	\N	\N	169.966666666666666667	\N	\N	\N	\N	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
10	beta-frozen	2026-11-13	all	-0.6231984576213643	-0.9177610463223219	-6.301349199478051	0.9009919859595884	348.220000000000000000	0.3471957032363122	348.220000000000000000	0.3471957032363122	2	-0.2922891199193454	\N	\N	-0.03510635425011927	-0.0532	0.21900795415690574	3.4766434910652433	2.3607875601317265	2	1	1	0.5	718.914290127000000000	-772.111481482000000000	0.9311016703793956	-26.598595677500000000	\N	\N	\N	\N	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
\.


--
-- Data for Name: portfolio_snapshots; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.portfolio_snapshots (snapshot_id, bot_id, snapshot_date, snapshot_time, total_equity, cash_balance, long_market_value, short_market_value, positions_count, daily_pnl, daily_return_pct, cumulative_pnl, cumulative_return_pct, buying_power, leverage, unrealized_pnl, realized_pnl_today, trades_today, wins_today, losses_today, created_at, updated_at) FROM stdin;
1	alpha-frozen	2026-11-09	2026-11-09 21:00:00+00	99991.000000000000000000	85991.000000000000000000	19000.000000000000000000	5000.000000000000000000	2	\N	\N	-9.000000000000000000	-0.009	\N	\N	3.000000000000000000	\N	0	0	0	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
2	beta-frozen	2026-11-09	2026-11-09 21:00:00+00	99981.900000000000000000	63788.180000000000000000	36193.720000000000000000	0.000000000000000000	2	\N	\N	-18.100000000000000000	-0.0181	\N	\N	0.000000000000000000	\N	0	0	0	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
3	alpha-frozen	2026-11-10	2026-11-10 21:00:00+00	100165.000000000000000000	85991.000000000000000000	19120.000000000000000000	4946.000000000000000000	2	174.000000000000000000	0.17401566140952685	165.000000000000000000	0.165	\N	\N	177.000000000000000000	\N	0	0	0	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
4	beta-frozen	2026-11-10	2026-11-10 21:00:00+00	100080.270000000000000000	63788.180000000000000000	36292.100000000000000000	0.000000000000000000	2	98.370000000000000000	0.09838780819328298	80.270000000000000000	0.08027	\N	\N	98.370000000000000000	\N	0	0	0	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
5	alpha-frozen	2026-11-11	2026-11-11 21:00:00+00	100092.580000000000000000	81152.580000000000000000	18940.000000000000000000	0.000000000000000000	1	-72.420000000000000000	-0.0723007038386662	92.580000000000000000	0.09258	\N	\N	-57.000000000000000000	\N	0	0	0	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
6	beta-frozen	2026-11-11	2026-11-11 21:00:00+00	100295.020000000000000000	87268.510000000000000000	13026.510000000000000000	0.000000000000000000	1	214.750000000000000000	0.2145777584333056	295.020000000000000000	0.29502	\N	\N	-417.170000000000000000	\N	0	0	0	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
7	alpha-frozen	2026-11-12	2026-11-12 21:00:00+00	100458.720000000000000000	88872.720000000000000000	11586.000000000000000000	0.000000000000000000	1	366.140000000000000000	0.3658013411183926	458.720000000000000000	0.45872	\N	\N	187.800000000000000000	\N	0	0	0	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
8	beta-frozen	2026-11-12	2026-11-12 21:00:00+00	100239.790000000000000000	87268.510000000000000000	12971.280000000000000000	0.000000000000000000	1	-55.230000000000000000	-0.055067539744246524	239.790000000000000000	0.23979	\N	\N	-472.400000000000000000	\N	0	0	0	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
9	alpha-frozen	2026-11-13	2026-11-13 21:00:00+00	100509.900000000000000000	100509.900000000000000000	0.000000000000000000	0.000000000000000000	0	51.180000000000000000	0.050946299136600585	509.900000000000000000	0.5099	\N	\N	0.000000000000000000	\N	0	0	0	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
10	beta-frozen	2026-11-13	2026-11-13 21:00:00+00	99946.800000000000000000	99946.800000000000000000	0.000000000000000000	0.000000000000000000	0	-292.990000000000000000	-0.2922891199193454	-53.200000000000000000	-0.0532	\N	\N	0.000000000000000000	\N	0	0	0	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
\.


--
-- Data for Name: positions; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.positions (position_id, bot_id, ticker, side, quantity, entry_price, current_price, unrealized_pnl, unrealized_pnl_pct, stop_loss_price, take_profit_price, max_favorable_excursion, max_adverse_excursion, commission, opened_at, updated_at, strategy, signal_score, metadata) FROM stdin;
pos_3cf5a743afd04a2fad02d3809cca23fd	alpha-frozen	MSFT	short	15.000000000000000000	392.400000000000000000	393.650000000000000000	-18.750000000000000000	-0.31855249745158004	405.000000000000000000	380.000000000000000000	392.400000000000000000	393.650000000000000000	2.940000000000000000	2026-11-13 20:30:00+00	2026-11-09 13:01:12+00	demo_weekend	\N	{"hold": "weekend"}
pos_8c5fe4dbdf64415d8da76948d22c6d9b	beta-frozen	BTC-USD	long	0.125000000000000000	67350.750000000000000000	67352.000000000000000000	0.156250000000000000	0.0018559555758473367	64000.000000000000000000	\N	67352.000000000000000000	67350.750000000000000000	4.210000000000000000	2026-11-13 20:30:00+00	2026-11-09 13:01:18+00	demo_weekend	\N	{"hold": "weekend"}
\.


--
-- Data for Name: tradestore_alembic_version; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.tradestore_alembic_version (version_num) FROM stdin;
0004
\.


--
-- Data for Name: training_episodes; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.training_episodes (episode_id, run_id, episode_number, episode_reward, episode_length, episode_time, mean_action, std_action, mean_value, mean_loss, learning_rate, exploration_rate) FROM stdin;
1	run_26c1f61b9d9c4f28a462b511f4449831	0	-6.1203633785698255	390	\N	\N	\N	\N	NaN	\N	\N
2	run_26c1f61b9d9c4f28a462b511f4449831	1	36.545300019505255	390	\N	\N	\N	\N	0.5	\N	\N
3	run_26c1f61b9d9c4f28a462b511f4449831	2	59.90561257176018	390	\N	\N	\N	\N	0.3333333333333333	\N	\N
4	run_26c1f61b9d9c4f28a462b511f4449831	3	66.74866831304736	390	\N	\N	\N	\N	0.25	\N	\N
5	run_26c1f61b9d9c4f28a462b511f4449831	4	73.82699961827348	390	\N	\N	\N	\N	0.2	\N	\N
6	run_26c1f61b9d9c4f28a462b511f4449831	5	89.26032643633557	390	\N	\N	\N	\N	0.16666666666666666	\N	\N
7	run_26c1f61b9d9c4f28a462b511f4449831	6	99.68556796401143	390	\N	\N	\N	\N	0.14285714285714285	\N	\N
8	run_26c1f61b9d9c4f28a462b511f4449831	7	109.46300091621234	390	\N	\N	\N	\N	0.125	\N	\N
9	run_26c1f61b9d9c4f28a462b511f4449831	8	103.7818558692509	390	\N	\N	\N	\N	0.1111111111111111	\N	\N
10	run_26c1f61b9d9c4f28a462b511f4449831	9	108.66493239546806	390	\N	\N	\N	\N	0.1	\N	\N
11	run_26c1f61b9d9c4f28a462b511f4449831	10	123.42440315290011	390	\N	\N	\N	\N	0.09090909090909091	\N	\N
12	run_26c1f61b9d9c4f28a462b511f4449831	11	126.61576105585182	390	\N	\N	\N	\N	0.08333333333333333	\N	\N
13	run_26c1f61b9d9c4f28a462b511f4449831	12	135.9163965164841	390	\N	\N	\N	\N	0.07692307692307693	\N	\N
14	run_26c1f61b9d9c4f28a462b511f4449831	13	136.86516101701247	390	\N	\N	\N	\N	0.07142857142857142	\N	\N
15	run_26c1f61b9d9c4f28a462b511f4449831	14	134.893602569573	390	\N	\N	\N	\N	0.06666666666666667	\N	\N
16	run_26c1f61b9d9c4f28a462b511f4449831	15	137.25825300256213	390	\N	\N	\N	\N	0.0625	\N	\N
17	run_26c1f61b9d9c4f28a462b511f4449831	16	154.51330745772253	390	\N	\N	\N	\N	0.058823529411764705	\N	\N
18	run_26c1f61b9d9c4f28a462b511f4449831	17	143.07457811648172	390	\N	\N	\N	\N	0.05555555555555555	\N	\N
19	run_26c1f61b9d9c4f28a462b511f4449831	18	143.29727206631418	390	\N	\N	\N	\N	0.05263157894736842	\N	\N
20	run_26c1f61b9d9c4f28a462b511f4449831	19	144.09489684518365	390	\N	\N	\N	\N	0.05	\N	\N
21	run_26c1f61b9d9c4f28a462b511f4449831	20	152.70342600240596	390	\N	\N	\N	\N	0.047619047619047616	\N	\N
22	run_26c1f61b9d9c4f28a462b511f4449831	21	155.27868999428762	390	\N	\N	\N	\N	0.045454545454545456	\N	\N
23	run_26c1f61b9d9c4f28a462b511f4449831	22	155.050382811598	390	\N	\N	\N	\N	0.043478260869565216	\N	\N
24	run_26c1f61b9d9c4f28a462b511f4449831	23	158.59189978427045	390	\N	\N	\N	\N	0.041666666666666664	\N	\N
25	run_26c1f61b9d9c4f28a462b511f4449831	24	162.3092512705881	390	\N	\N	\N	\N	0.04	\N	\N
26	run_26c1f61b9d9c4f28a462b511f4449831	25	166.36681400812702	390	\N	\N	\N	\N	0.038461538461538464	\N	\N
27	run_26c1f61b9d9c4f28a462b511f4449831	26	170.27585391858318	390	\N	\N	\N	\N	0.037037037037037035	\N	\N
28	run_26c1f61b9d9c4f28a462b511f4449831	27	167.6593061134287	390	\N	\N	\N	\N	0.03571428571428571	\N	\N
29	run_26c1f61b9d9c4f28a462b511f4449831	28	159.4158851469579	390	\N	\N	\N	\N	0.034482758620689655	\N	\N
30	run_26c1f61b9d9c4f28a462b511f4449831	29	173.56849241410913	390	\N	\N	\N	\N	0.03333333333333333	\N	\N
31	run_26c1f61b9d9c4f28a462b511f4449831	30	164.60087460124967	390	\N	\N	\N	\N	0.03225806451612903	\N	\N
32	run_26c1f61b9d9c4f28a462b511f4449831	31	172.4297095848383	390	\N	\N	\N	\N	0.03125	\N	\N
33	run_26c1f61b9d9c4f28a462b511f4449831	32	167.4563956525321	390	\N	\N	\N	\N	0.030303030303030304	\N	\N
34	run_26c1f61b9d9c4f28a462b511f4449831	33	176.3285294454735	390	\N	\N	\N	\N	0.029411764705882353	\N	\N
35	run_26c1f61b9d9c4f28a462b511f4449831	34	173.87457542648545	390	\N	\N	\N	\N	0.02857142857142857	\N	\N
36	run_26c1f61b9d9c4f28a462b511f4449831	35	180.2453777623357	390	\N	\N	\N	\N	0.027777777777777776	\N	\N
37	run_26c1f61b9d9c4f28a462b511f4449831	36	197.04743660631814	390	\N	\N	\N	\N	0.02702702702702703	\N	\N
38	run_26c1f61b9d9c4f28a462b511f4449831	37	181.63628003191013	390	\N	\N	\N	\N	0.02631578947368421	\N	\N
39	run_26c1f61b9d9c4f28a462b511f4449831	38	187.38970206989595	390	\N	\N	\N	\N	0.02564102564102564	\N	\N
40	run_26c1f61b9d9c4f28a462b511f4449831	39	177.82734634720296	390	\N	\N	\N	\N	0.025	\N	\N
41	run_26c1f61b9d9c4f28a462b511f4449831	40	184.23833313671523	390	\N	\N	\N	\N	0.024390243902439025	\N	\N
42	run_26c1f61b9d9c4f28a462b511f4449831	41	190.19590751207014	390	\N	\N	\N	\N	0.023809523809523808	\N	\N
43	run_26c1f61b9d9c4f28a462b511f4449831	42	187.59665625994168	390	\N	\N	\N	\N	0.023255813953488372	\N	\N
44	run_26c1f61b9d9c4f28a462b511f4449831	43	191.06038942163573	390	\N	\N	\N	\N	0.022727272727272728	\N	\N
45	run_26c1f61b9d9c4f28a462b511f4449831	44	190.8497677238739	390	\N	\N	\N	\N	0.022222222222222223	\N	\N
46	run_26c1f61b9d9c4f28a462b511f4449831	45	186.4013950051677	390	\N	\N	\N	\N	0.021739130434782608	\N	\N
47	run_26c1f61b9d9c4f28a462b511f4449831	46	195.32610309389833	390	\N	\N	\N	\N	0.02127659574468085	\N	\N
48	run_26c1f61b9d9c4f28a462b511f4449831	47	189.4999207218319	390	\N	\N	\N	\N	0.020833333333333332	\N	\N
49	run_26c1f61b9d9c4f28a462b511f4449831	48	203.94977723667478	390	\N	\N	\N	\N	0.02040816326530612	\N	\N
50	run_26c1f61b9d9c4f28a462b511f4449831	49	193.0751314207055	390	\N	\N	\N	\N	0.02	\N	\N
51	run_26c1f61b9d9c4f28a462b511f4449831	50	200.02174760566783	390	\N	\N	\N	\N	0.0196078431372549	\N	\N
52	run_26c1f61b9d9c4f28a462b511f4449831	51	197.57393168634113	390	\N	\N	\N	\N	0.019230769230769232	\N	\N
53	run_26c1f61b9d9c4f28a462b511f4449831	52	203.27674699530434	390	\N	\N	\N	\N	0.018867924528301886	\N	\N
54	run_26c1f61b9d9c4f28a462b511f4449831	53	196.43845024817077	390	\N	\N	\N	\N	0.018518518518518517	\N	\N
55	run_26c1f61b9d9c4f28a462b511f4449831	54	205.36098982524948	390	\N	\N	\N	\N	0.01818181818181818	\N	\N
56	run_26c1f61b9d9c4f28a462b511f4449831	55	200.648094062569	390	\N	\N	\N	\N	0.017857142857142856	\N	\N
57	run_26c1f61b9d9c4f28a462b511f4449831	56	208.46909208890247	390	\N	\N	\N	\N	0.017543859649122806	\N	\N
58	run_26c1f61b9d9c4f28a462b511f4449831	57	206.14312354571086	390	\N	\N	\N	\N	0.017241379310344827	\N	\N
59	run_26c1f61b9d9c4f28a462b511f4449831	58	204.58334178249848	390	\N	\N	\N	\N	0.01694915254237288	\N	\N
60	run_26c1f61b9d9c4f28a462b511f4449831	59	200.81580919451073	390	\N	\N	\N	\N	0.016666666666666666	\N	\N
61	run_26c1f61b9d9c4f28a462b511f4449831	60	209.38270863979798	390	\N	\N	\N	\N	0.01639344262295082	\N	\N
62	run_26c1f61b9d9c4f28a462b511f4449831	61	208.69748179012865	390	\N	\N	\N	\N	0.016129032258064516	\N	\N
63	run_26c1f61b9d9c4f28a462b511f4449831	62	215.36621411307613	390	\N	\N	\N	\N	0.015873015873015872	\N	\N
64	run_26c1f61b9d9c4f28a462b511f4449831	63	206.0590218172255	390	\N	\N	\N	\N	0.015625	\N	\N
65	run_26c1f61b9d9c4f28a462b511f4449831	64	211.49316125246597	390	\N	\N	\N	\N	0.015384615384615385	\N	\N
66	run_26c1f61b9d9c4f28a462b511f4449831	65	212.02240720246948	390	\N	\N	\N	\N	0.015151515151515152	\N	\N
67	run_26c1f61b9d9c4f28a462b511f4449831	66	211.6494946687024	390	\N	\N	\N	\N	0.014925373134328358	\N	\N
68	run_26c1f61b9d9c4f28a462b511f4449831	67	212.01762379381816	390	\N	\N	\N	\N	0.014705882352941176	\N	\N
69	run_26c1f61b9d9c4f28a462b511f4449831	68	212.615941216111	390	\N	\N	\N	\N	0.014492753623188406	\N	\N
70	run_26c1f61b9d9c4f28a462b511f4449831	69	209.4327814913423	390	\N	\N	\N	\N	0.014285714285714285	\N	\N
71	run_26c1f61b9d9c4f28a462b511f4449831	70	208.06165516013755	390	\N	\N	\N	\N	0.014084507042253521	\N	\N
72	run_26c1f61b9d9c4f28a462b511f4449831	71	211.8509652838575	390	\N	\N	\N	\N	0.013888888888888888	\N	\N
73	run_26c1f61b9d9c4f28a462b511f4449831	72	217.47705381183673	390	\N	\N	\N	\N	0.0136986301369863	\N	\N
74	run_26c1f61b9d9c4f28a462b511f4449831	73	222.75918504181058	390	\N	\N	\N	\N	0.013513513513513514	\N	\N
75	run_26c1f61b9d9c4f28a462b511f4449831	74	220.7598719086342	390	\N	\N	\N	\N	0.013333333333333334	\N	\N
76	run_26c1f61b9d9c4f28a462b511f4449831	75	221.80292302685325	390	\N	\N	\N	\N	0.013157894736842105	\N	\N
77	run_26c1f61b9d9c4f28a462b511f4449831	76	221.0767518024742	390	\N	\N	\N	\N	0.012987012987012988	\N	\N
78	run_26c1f61b9d9c4f28a462b511f4449831	77	221.3278342606314	390	\N	\N	\N	\N	0.01282051282051282	\N	\N
79	run_26c1f61b9d9c4f28a462b511f4449831	78	219.3891507324865	390	\N	\N	\N	\N	0.012658227848101266	\N	\N
80	run_26c1f61b9d9c4f28a462b511f4449831	79	222.95892828138207	390	\N	\N	\N	\N	0.0125	\N	\N
81	run_26c1f61b9d9c4f28a462b511f4449831	80	228.59086284504872	390	\N	\N	\N	\N	0.012345679012345678	\N	\N
82	run_26c1f61b9d9c4f28a462b511f4449831	81	218.69781709103756	390	\N	\N	\N	\N	0.012195121951219513	\N	\N
83	run_26c1f61b9d9c4f28a462b511f4449831	82	217.47300722919985	390	\N	\N	\N	\N	0.012048192771084338	\N	\N
84	run_26c1f61b9d9c4f28a462b511f4449831	83	231.34126970715437	390	\N	\N	\N	\N	0.011904761904761904	\N	\N
85	run_26c1f61b9d9c4f28a462b511f4449831	84	223.3560108990552	390	\N	\N	\N	\N	0.011764705882352941	\N	\N
86	run_26c1f61b9d9c4f28a462b511f4449831	85	227.57221850925595	390	\N	\N	\N	\N	0.011627906976744186	\N	\N
87	run_26c1f61b9d9c4f28a462b511f4449831	86	227.6647265991244	390	\N	\N	\N	\N	0.011494252873563218	\N	\N
88	run_26c1f61b9d9c4f28a462b511f4449831	87	218.18817857337612	390	\N	\N	\N	\N	0.011363636363636364	\N	\N
89	run_26c1f61b9d9c4f28a462b511f4449831	88	236.59922335469363	390	\N	\N	\N	\N	0.011235955056179775	\N	\N
90	run_26c1f61b9d9c4f28a462b511f4449831	89	233.86954701282744	390	\N	\N	\N	\N	0.011111111111111112	\N	\N
91	run_26c1f61b9d9c4f28a462b511f4449831	90	226.42770152950246	390	\N	\N	\N	\N	0.01098901098901099	\N	\N
92	run_26c1f61b9d9c4f28a462b511f4449831	91	229.85191050613116	390	\N	\N	\N	\N	0.010869565217391304	\N	\N
93	run_26c1f61b9d9c4f28a462b511f4449831	92	227.2645220359551	390	\N	\N	\N	\N	0.010752688172043012	\N	\N
94	run_26c1f61b9d9c4f28a462b511f4449831	93	222.74395464223997	390	\N	\N	\N	\N	0.010638297872340425	\N	\N
95	run_26c1f61b9d9c4f28a462b511f4449831	94	227.1335758928622	390	\N	\N	\N	\N	0.010526315789473684	\N	\N
96	run_26c1f61b9d9c4f28a462b511f4449831	95	230.08761978564758	390	\N	\N	\N	\N	0.010416666666666666	\N	\N
97	run_26c1f61b9d9c4f28a462b511f4449831	96	234.3145579687004	390	\N	\N	\N	\N	0.010309278350515464	\N	\N
98	run_26c1f61b9d9c4f28a462b511f4449831	97	232.79468501376874	390	\N	\N	\N	\N	0.01020408163265306	\N	\N
99	run_26c1f61b9d9c4f28a462b511f4449831	98	230.05356873297717	390	\N	\N	\N	\N	0.010101010101010102	\N	\N
100	run_26c1f61b9d9c4f28a462b511f4449831	99	237.03248328246366	390	\N	\N	\N	\N	0.01	\N	\N
101	run_26c1f61b9d9c4f28a462b511f4449831	100	226.95244025521015	390	\N	\N	\N	\N	0.009900990099009901	\N	\N
102	run_26c1f61b9d9c4f28a462b511f4449831	101	235.2131187509931	390	\N	\N	\N	\N	0.00980392156862745	\N	\N
103	run_26c1f61b9d9c4f28a462b511f4449831	102	237.29737699943135	390	\N	\N	\N	\N	0.009708737864077669	\N	\N
104	run_26c1f61b9d9c4f28a462b511f4449831	103	230.75946802565062	390	\N	\N	\N	\N	0.009615384615384616	\N	\N
105	run_26c1f61b9d9c4f28a462b511f4449831	104	223.7449230206192	390	\N	\N	\N	\N	0.009523809523809525	\N	\N
106	run_26c1f61b9d9c4f28a462b511f4449831	105	228.64046449898174	390	\N	\N	\N	\N	0.009433962264150943	\N	\N
107	run_26c1f61b9d9c4f28a462b511f4449831	106	234.82654547541264	390	\N	\N	\N	\N	0.009345794392523364	\N	\N
108	run_26c1f61b9d9c4f28a462b511f4449831	107	236.7457512465336	390	\N	\N	\N	\N	0.009259259259259259	\N	\N
109	run_26c1f61b9d9c4f28a462b511f4449831	108	242.30845688912913	390	\N	\N	\N	\N	0.009174311926605505	\N	\N
110	run_26c1f61b9d9c4f28a462b511f4449831	109	230.00316211156047	390	\N	\N	\N	\N	0.00909090909090909	\N	\N
111	run_26c1f61b9d9c4f28a462b511f4449831	110	235.4867306984464	390	\N	\N	\N	\N	0.009009009009009009	\N	\N
112	run_26c1f61b9d9c4f28a462b511f4449831	111	239.16896021823447	390	\N	\N	\N	\N	0.008928571428571428	\N	\N
113	run_26c1f61b9d9c4f28a462b511f4449831	112	235.5809135944608	390	\N	\N	\N	\N	0.008849557522123894	\N	\N
114	run_26c1f61b9d9c4f28a462b511f4449831	113	224.96140367859533	390	\N	\N	\N	\N	0.008771929824561403	\N	\N
115	run_26c1f61b9d9c4f28a462b511f4449831	114	241.27892971345574	390	\N	\N	\N	\N	0.008695652173913044	\N	\N
116	run_26c1f61b9d9c4f28a462b511f4449831	115	249.24078196461917	390	\N	\N	\N	\N	0.008620689655172414	\N	\N
117	run_26c1f61b9d9c4f28a462b511f4449831	116	243.1302496571774	390	\N	\N	\N	\N	0.008547008547008548	\N	\N
118	run_26c1f61b9d9c4f28a462b511f4449831	117	233.94704439679828	390	\N	\N	\N	\N	0.00847457627118644	\N	\N
119	run_26c1f61b9d9c4f28a462b511f4449831	118	236.89421555835278	390	\N	\N	\N	\N	0.008403361344537815	\N	\N
120	run_26c1f61b9d9c4f28a462b511f4449831	119	240.48369598390113	390	\N	\N	\N	\N	0.008333333333333333	\N	\N
121	run_26c1f61b9d9c4f28a462b511f4449831	120	252.2347649011986	390	\N	\N	\N	\N	0.008264462809917356	\N	\N
122	run_26c1f61b9d9c4f28a462b511f4449831	121	243.28802174301205	390	\N	\N	\N	\N	0.00819672131147541	\N	\N
123	run_26c1f61b9d9c4f28a462b511f4449831	122	241.17746134570197	390	\N	\N	\N	\N	0.008130081300813009	\N	\N
124	run_26c1f61b9d9c4f28a462b511f4449831	123	248.8015597893713	390	\N	\N	\N	\N	0.008064516129032258	\N	\N
125	run_26c1f61b9d9c4f28a462b511f4449831	124	241.00717797823455	390	\N	\N	\N	\N	0.008	\N	\N
126	run_26c1f61b9d9c4f28a462b511f4449831	125	251.12089886427424	390	\N	\N	\N	\N	0.007936507936507936	\N	\N
127	run_26c1f61b9d9c4f28a462b511f4449831	126	238.78432482634503	390	\N	\N	\N	\N	0.007874015748031496	\N	\N
128	run_26c1f61b9d9c4f28a462b511f4449831	127	240.22744466718396	390	\N	\N	\N	\N	0.0078125	\N	\N
129	run_26c1f61b9d9c4f28a462b511f4449831	128	246.59496653083735	390	\N	\N	\N	\N	0.007751937984496124	\N	\N
130	run_26c1f61b9d9c4f28a462b511f4449831	129	250.4985274548842	390	\N	\N	\N	\N	0.007692307692307693	\N	\N
131	run_26c1f61b9d9c4f28a462b511f4449831	130	247.02946539998374	390	\N	\N	\N	\N	0.007633587786259542	\N	\N
132	run_26c1f61b9d9c4f28a462b511f4449831	131	245.6480528148751	390	\N	\N	\N	\N	0.007575757575757576	\N	\N
133	run_26c1f61b9d9c4f28a462b511f4449831	132	235.4093127250954	390	\N	\N	\N	\N	0.007518796992481203	\N	\N
134	run_26c1f61b9d9c4f28a462b511f4449831	133	241.32770259221965	390	\N	\N	\N	\N	0.007462686567164179	\N	\N
135	run_26c1f61b9d9c4f28a462b511f4449831	134	242.21056407715548	390	\N	\N	\N	\N	0.007407407407407408	\N	\N
136	run_26c1f61b9d9c4f28a462b511f4449831	135	242.9646804508359	390	\N	\N	\N	\N	0.007352941176470588	\N	\N
137	run_26c1f61b9d9c4f28a462b511f4449831	136	248.9312458063733	390	\N	\N	\N	\N	0.0072992700729927005	\N	\N
138	run_26c1f61b9d9c4f28a462b511f4449831	137	244.68677137045935	390	\N	\N	\N	\N	0.007246376811594203	\N	\N
139	run_26c1f61b9d9c4f28a462b511f4449831	138	250.66208559180126	390	\N	\N	\N	\N	0.007194244604316547	\N	\N
140	run_26c1f61b9d9c4f28a462b511f4449831	139	247.4937640425174	390	\N	\N	\N	\N	0.007142857142857143	\N	\N
141	run_26c1f61b9d9c4f28a462b511f4449831	140	245.7739629638596	390	\N	\N	\N	\N	0.0070921985815602835	\N	\N
142	run_26c1f61b9d9c4f28a462b511f4449831	141	248.38212170645915	390	\N	\N	\N	\N	0.007042253521126761	\N	\N
143	run_26c1f61b9d9c4f28a462b511f4449831	142	250.28601862590304	390	\N	\N	\N	\N	0.006993006993006993	\N	\N
144	run_26c1f61b9d9c4f28a462b511f4449831	143	252.78131101713706	390	\N	\N	\N	\N	0.006944444444444444	\N	\N
145	run_26c1f61b9d9c4f28a462b511f4449831	144	246.44917688712067	390	\N	\N	\N	\N	0.006896551724137931	\N	\N
146	run_26c1f61b9d9c4f28a462b511f4449831	145	248.01684484740622	390	\N	\N	\N	\N	0.00684931506849315	\N	\N
147	run_26c1f61b9d9c4f28a462b511f4449831	146	242.70351586178256	390	\N	\N	\N	\N	0.006802721088435374	\N	\N
148	run_26c1f61b9d9c4f28a462b511f4449831	147	257.87973387184644	390	\N	\N	\N	\N	0.006756756756756757	\N	\N
149	run_26c1f61b9d9c4f28a462b511f4449831	148	257.4562281759528	390	\N	\N	\N	\N	0.006711409395973154	\N	\N
150	run_26c1f61b9d9c4f28a462b511f4449831	149	249.63760552712995	390	\N	\N	\N	\N	0.006666666666666667	\N	\N
151	run_26c1f61b9d9c4f28a462b511f4449831	150	248.4720862887775	390	\N	\N	\N	\N	0.006622516556291391	\N	\N
152	run_26c1f61b9d9c4f28a462b511f4449831	151	245.01460587236377	390	\N	\N	\N	\N	0.006578947368421052	\N	\N
153	run_26c1f61b9d9c4f28a462b511f4449831	152	252.37139820118546	390	\N	\N	\N	\N	0.006535947712418301	\N	\N
154	run_26c1f61b9d9c4f28a462b511f4449831	153	252.8790747712483	390	\N	\N	\N	\N	0.006493506493506494	\N	\N
155	run_26c1f61b9d9c4f28a462b511f4449831	154	263.079895183499	390	\N	\N	\N	\N	0.0064516129032258064	\N	\N
156	run_26c1f61b9d9c4f28a462b511f4449831	155	253.72448086958306	390	\N	\N	\N	\N	0.00641025641025641	\N	\N
157	run_26c1f61b9d9c4f28a462b511f4449831	156	248.92293706760253	390	\N	\N	\N	\N	0.006369426751592357	\N	\N
158	run_26c1f61b9d9c4f28a462b511f4449831	157	240.9065641551484	390	\N	\N	\N	\N	0.006329113924050633	\N	\N
159	run_26c1f61b9d9c4f28a462b511f4449831	158	260.4921063452414	390	\N	\N	\N	\N	0.006289308176100629	\N	\N
160	run_26c1f61b9d9c4f28a462b511f4449831	159	254.70562097469224	390	\N	\N	\N	\N	0.00625	\N	\N
161	run_26c1f61b9d9c4f28a462b511f4449831	160	246.02375256091065	390	\N	\N	\N	\N	0.006211180124223602	\N	\N
162	run_26c1f61b9d9c4f28a462b511f4449831	161	255.28168136739703	390	\N	\N	\N	\N	0.006172839506172839	\N	\N
163	run_26c1f61b9d9c4f28a462b511f4449831	162	246.6446000553029	390	\N	\N	\N	\N	0.006134969325153374	\N	\N
164	run_26c1f61b9d9c4f28a462b511f4449831	163	272.39529318051734	390	\N	\N	\N	\N	0.006097560975609756	\N	\N
165	run_26c1f61b9d9c4f28a462b511f4449831	164	260.89197507784127	390	\N	\N	\N	\N	0.006060606060606061	\N	\N
166	run_26c1f61b9d9c4f28a462b511f4449831	165	258.4616828495357	390	\N	\N	\N	\N	0.006024096385542169	\N	\N
167	run_26c1f61b9d9c4f28a462b511f4449831	166	255.02423393056884	390	\N	\N	\N	\N	0.005988023952095809	\N	\N
168	run_26c1f61b9d9c4f28a462b511f4449831	167	245.49956041626444	390	\N	\N	\N	\N	0.005952380952380952	\N	\N
169	run_26c1f61b9d9c4f28a462b511f4449831	168	255.862950629005	390	\N	\N	\N	\N	0.005917159763313609	\N	\N
170	run_26c1f61b9d9c4f28a462b511f4449831	169	249.0170103597886	390	\N	\N	\N	\N	0.0058823529411764705	\N	\N
171	run_26c1f61b9d9c4f28a462b511f4449831	170	260.06427494881757	390	\N	\N	\N	\N	0.005847953216374269	\N	\N
172	run_26c1f61b9d9c4f28a462b511f4449831	171	246.68034314470296	390	\N	\N	\N	\N	0.005813953488372093	\N	\N
173	run_26c1f61b9d9c4f28a462b511f4449831	172	253.12597846577697	390	\N	\N	\N	\N	0.005780346820809248	\N	\N
174	run_26c1f61b9d9c4f28a462b511f4449831	173	264.0505845301211	390	\N	\N	\N	\N	0.005747126436781609	\N	\N
175	run_26c1f61b9d9c4f28a462b511f4449831	174	266.45856362049653	390	\N	\N	\N	\N	0.005714285714285714	\N	\N
176	run_26c1f61b9d9c4f28a462b511f4449831	175	252.61826282636687	390	\N	\N	\N	\N	0.005681818181818182	\N	\N
177	run_26c1f61b9d9c4f28a462b511f4449831	176	251.13767955736336	390	\N	\N	\N	\N	0.005649717514124294	\N	\N
178	run_26c1f61b9d9c4f28a462b511f4449831	177	263.48613946860047	390	\N	\N	\N	\N	0.0056179775280898875	\N	\N
179	run_26c1f61b9d9c4f28a462b511f4449831	178	263.63469592264653	390	\N	\N	\N	\N	0.00558659217877095	\N	\N
180	run_26c1f61b9d9c4f28a462b511f4449831	179	254.7150601652857	390	\N	\N	\N	\N	0.005555555555555556	\N	\N
181	run_26c1f61b9d9c4f28a462b511f4449831	180	256.4533766313464	390	\N	\N	\N	\N	0.0055248618784530384	\N	\N
182	run_26c1f61b9d9c4f28a462b511f4449831	181	256.7305801016258	390	\N	\N	\N	\N	0.005494505494505495	\N	\N
183	run_26c1f61b9d9c4f28a462b511f4449831	182	254.52718496526066	390	\N	\N	\N	\N	0.00546448087431694	\N	\N
184	run_26c1f61b9d9c4f28a462b511f4449831	183	257.3457438719354	390	\N	\N	\N	\N	0.005434782608695652	\N	\N
185	run_26c1f61b9d9c4f28a462b511f4449831	184	267.27149409539703	390	\N	\N	\N	\N	0.005405405405405406	\N	\N
186	run_26c1f61b9d9c4f28a462b511f4449831	185	264.7356807049499	390	\N	\N	\N	\N	0.005376344086021506	\N	\N
187	run_26c1f61b9d9c4f28a462b511f4449831	186	271.8384334814752	390	\N	\N	\N	\N	0.0053475935828877	\N	\N
188	run_26c1f61b9d9c4f28a462b511f4449831	187	261.3903912747112	390	\N	\N	\N	\N	0.005319148936170213	\N	\N
189	run_26c1f61b9d9c4f28a462b511f4449831	188	261.41050692586	390	\N	\N	\N	\N	0.005291005291005291	\N	\N
190	run_26c1f61b9d9c4f28a462b511f4449831	189	257.43910700897214	390	\N	\N	\N	\N	0.005263157894736842	\N	\N
191	run_26c1f61b9d9c4f28a462b511f4449831	190	261.9946396301435	390	\N	\N	\N	\N	0.005235602094240838	\N	\N
192	run_26c1f61b9d9c4f28a462b511f4449831	191	256.30929871184225	390	\N	\N	\N	\N	0.005208333333333333	\N	\N
193	run_26c1f61b9d9c4f28a462b511f4449831	192	254.24756118604577	390	\N	\N	\N	\N	0.0051813471502590676	\N	\N
194	run_26c1f61b9d9c4f28a462b511f4449831	193	266.87779460790983	390	\N	\N	\N	\N	0.005154639175257732	\N	\N
195	run_26c1f61b9d9c4f28a462b511f4449831	194	270.8505260830406	390	\N	\N	\N	\N	0.005128205128205128	\N	\N
196	run_26c1f61b9d9c4f28a462b511f4449831	195	268.09009401880314	390	\N	\N	\N	\N	0.00510204081632653	\N	\N
197	run_26c1f61b9d9c4f28a462b511f4449831	196	270.8222769111315	390	\N	\N	\N	\N	0.005076142131979695	\N	\N
198	run_26c1f61b9d9c4f28a462b511f4449831	197	265.6750978800538	390	\N	\N	\N	\N	0.005050505050505051	\N	\N
199	run_26c1f61b9d9c4f28a462b511f4449831	198	261.074109595977	390	\N	\N	\N	\N	0.005025125628140704	\N	\N
200	run_26c1f61b9d9c4f28a462b511f4449831	199	265.3476162523868	390	\N	\N	\N	\N	0.005	\N	\N
201	run_26c1f61b9d9c4f28a462b511f4449831	200	263.29500548984277	390	\N	\N	\N	\N	0.004975124378109453	\N	\N
202	run_26c1f61b9d9c4f28a462b511f4449831	201	259.8559238820069	390	\N	\N	\N	\N	0.0049504950495049506	\N	\N
203	run_26c1f61b9d9c4f28a462b511f4449831	202	257.1978706391409	390	\N	\N	\N	\N	0.0049261083743842365	\N	\N
204	run_26c1f61b9d9c4f28a462b511f4449831	203	258.4921777745328	390	\N	\N	\N	\N	0.004901960784313725	\N	\N
205	run_26c1f61b9d9c4f28a462b511f4449831	204	266.1228827641206	390	\N	\N	\N	\N	0.004878048780487805	\N	\N
206	run_26c1f61b9d9c4f28a462b511f4449831	205	267.1473455783046	390	\N	\N	\N	\N	0.0048543689320388345	\N	\N
207	run_26c1f61b9d9c4f28a462b511f4449831	206	264.2630323599422	390	\N	\N	\N	\N	0.004830917874396135	\N	\N
208	run_26c1f61b9d9c4f28a462b511f4449831	207	274.02188629285035	390	\N	\N	\N	\N	0.004807692307692308	\N	\N
209	run_26c1f61b9d9c4f28a462b511f4449831	208	268.01170642905686	390	\N	\N	\N	\N	0.004784688995215311	\N	\N
210	run_26c1f61b9d9c4f28a462b511f4449831	209	270.2694467273238	390	\N	\N	\N	\N	0.004761904761904762	\N	\N
211	run_26c1f61b9d9c4f28a462b511f4449831	210	273.6859039499859	390	\N	\N	\N	\N	0.004739336492890996	\N	\N
212	run_26c1f61b9d9c4f28a462b511f4449831	211	263.72877750256663	390	\N	\N	\N	\N	0.0047169811320754715	\N	\N
213	run_26c1f61b9d9c4f28a462b511f4449831	212	258.21556939030506	390	\N	\N	\N	\N	0.004694835680751174	\N	\N
214	run_26c1f61b9d9c4f28a462b511f4449831	213	272.0606313189716	390	\N	\N	\N	\N	0.004672897196261682	\N	\N
215	run_26c1f61b9d9c4f28a462b511f4449831	214	265.0896580492304	390	\N	\N	\N	\N	0.004651162790697674	\N	\N
216	run_26c1f61b9d9c4f28a462b511f4449831	215	275.3188091593166	390	\N	\N	\N	\N	0.004629629629629629	\N	\N
217	run_26c1f61b9d9c4f28a462b511f4449831	216	270.68274163031043	390	\N	\N	\N	\N	0.004608294930875576	\N	\N
218	run_26c1f61b9d9c4f28a462b511f4449831	217	274.25820351720716	390	\N	\N	\N	\N	0.0045871559633027525	\N	\N
219	run_26c1f61b9d9c4f28a462b511f4449831	218	273.2719814387576	390	\N	\N	\N	\N	0.0045662100456621	\N	\N
220	run_26c1f61b9d9c4f28a462b511f4449831	219	259.2785397806847	390	\N	\N	\N	\N	0.004545454545454545	\N	\N
221	run_26c1f61b9d9c4f28a462b511f4449831	220	273.50427760395985	390	\N	\N	\N	\N	0.004524886877828055	\N	\N
222	run_26c1f61b9d9c4f28a462b511f4449831	221	266.7682829268079	390	\N	\N	\N	\N	0.0045045045045045045	\N	\N
223	run_26c1f61b9d9c4f28a462b511f4449831	222	266.5780470631937	390	\N	\N	\N	\N	0.004484304932735426	\N	\N
224	run_26c1f61b9d9c4f28a462b511f4449831	223	268.4067625036046	390	\N	\N	\N	\N	0.004464285714285714	\N	\N
225	run_26c1f61b9d9c4f28a462b511f4449831	224	274.64579419364543	390	\N	\N	\N	\N	0.0044444444444444444	\N	\N
226	run_26c1f61b9d9c4f28a462b511f4449831	225	275.4487133238339	390	\N	\N	\N	\N	0.004424778761061947	\N	\N
227	run_26c1f61b9d9c4f28a462b511f4449831	226	276.3038508276434	390	\N	\N	\N	\N	0.004405286343612335	\N	\N
228	run_26c1f61b9d9c4f28a462b511f4449831	227	263.16881359664774	390	\N	\N	\N	\N	0.0043859649122807015	\N	\N
229	run_26c1f61b9d9c4f28a462b511f4449831	228	268.73323919548017	390	\N	\N	\N	\N	0.004366812227074236	\N	\N
230	run_26c1f61b9d9c4f28a462b511f4449831	229	260.026786591606	390	\N	\N	\N	\N	0.004347826086956522	\N	\N
231	run_26c1f61b9d9c4f28a462b511f4449831	230	271.610855129608	390	\N	\N	\N	\N	0.004329004329004329	\N	\N
232	run_26c1f61b9d9c4f28a462b511f4449831	231	275.3375185384612	390	\N	\N	\N	\N	0.004310344827586207	\N	\N
233	run_26c1f61b9d9c4f28a462b511f4449831	232	268.73193705098316	390	\N	\N	\N	\N	0.004291845493562232	\N	\N
234	run_26c1f61b9d9c4f28a462b511f4449831	233	273.9900334814592	390	\N	\N	\N	\N	0.004273504273504274	\N	\N
235	run_26c1f61b9d9c4f28a462b511f4449831	234	274.1360286346961	390	\N	\N	\N	\N	0.00425531914893617	\N	\N
236	run_26c1f61b9d9c4f28a462b511f4449831	235	278.2296851577977	390	\N	\N	\N	\N	0.00423728813559322	\N	\N
237	run_26c1f61b9d9c4f28a462b511f4449831	236	269.29601575062196	390	\N	\N	\N	\N	0.004219409282700422	\N	\N
238	run_26c1f61b9d9c4f28a462b511f4449831	237	269.46850788179523	390	\N	\N	\N	\N	0.004201680672268907	\N	\N
239	run_26c1f61b9d9c4f28a462b511f4449831	238	270.0067865480552	390	\N	\N	\N	\N	0.0041841004184100415	\N	\N
240	run_26c1f61b9d9c4f28a462b511f4449831	239	282.7949075756164	390	\N	\N	\N	\N	0.004166666666666667	\N	\N
241	run_26c1f61b9d9c4f28a462b511f4449831	240	279.69287562519156	390	\N	\N	\N	\N	0.004149377593360996	\N	\N
242	run_26c1f61b9d9c4f28a462b511f4449831	241	273.8287871163162	390	\N	\N	\N	\N	0.004132231404958678	\N	\N
243	run_26c1f61b9d9c4f28a462b511f4449831	242	275.78113221964304	390	\N	\N	\N	\N	0.00411522633744856	\N	\N
244	run_26c1f61b9d9c4f28a462b511f4449831	243	275.43032557875114	390	\N	\N	\N	\N	0.004098360655737705	\N	\N
245	run_26c1f61b9d9c4f28a462b511f4449831	244	276.07801848008785	390	\N	\N	\N	\N	0.004081632653061225	\N	\N
246	run_26c1f61b9d9c4f28a462b511f4449831	245	274.22339104212705	390	\N	\N	\N	\N	0.0040650406504065045	\N	\N
247	run_26c1f61b9d9c4f28a462b511f4449831	246	273.79851522603855	390	\N	\N	\N	\N	0.004048582995951417	\N	\N
248	run_26c1f61b9d9c4f28a462b511f4449831	247	269.3885791226825	390	\N	\N	\N	\N	0.004032258064516129	\N	\N
249	run_26c1f61b9d9c4f28a462b511f4449831	248	272.6634698748683	390	\N	\N	\N	\N	0.004016064257028112	\N	\N
250	run_26c1f61b9d9c4f28a462b511f4449831	249	284.3250305487772	390	\N	\N	\N	\N	0.004	\N	\N
251	run_26c1f61b9d9c4f28a462b511f4449831	250	278.9554499164108	390	\N	\N	\N	\N	0.00398406374501992	\N	\N
252	run_26c1f61b9d9c4f28a462b511f4449831	251	276.7952087166385	390	\N	\N	\N	\N	0.003968253968253968	\N	\N
253	run_26c1f61b9d9c4f28a462b511f4449831	252	275.5953611820582	390	\N	\N	\N	\N	0.003952569169960474	\N	\N
254	run_26c1f61b9d9c4f28a462b511f4449831	253	277.17999895366717	390	\N	\N	\N	\N	0.003937007874015748	\N	\N
255	run_26c1f61b9d9c4f28a462b511f4449831	254	278.82991324874234	390	\N	\N	\N	\N	0.00392156862745098	\N	\N
256	run_26c1f61b9d9c4f28a462b511f4449831	255	274.02927221945095	390	\N	\N	\N	\N	0.00390625	\N	\N
257	run_26c1f61b9d9c4f28a462b511f4449831	256	278.43554161517096	390	\N	\N	\N	\N	0.0038910505836575876	\N	\N
258	run_26c1f61b9d9c4f28a462b511f4449831	257	278.8480615074632	390	\N	\N	\N	\N	0.003875968992248062	\N	\N
259	run_26c1f61b9d9c4f28a462b511f4449831	258	274.09839965643766	390	\N	\N	\N	\N	0.003861003861003861	\N	\N
260	run_26c1f61b9d9c4f28a462b511f4449831	259	274.089101920292	390	\N	\N	\N	\N	0.0038461538461538464	\N	\N
261	run_26c1f61b9d9c4f28a462b511f4449831	260	273.23106583007524	390	\N	\N	\N	\N	0.0038314176245210726	\N	\N
262	run_26c1f61b9d9c4f28a462b511f4449831	261	273.10053350760853	390	\N	\N	\N	\N	0.003816793893129771	\N	\N
263	run_26c1f61b9d9c4f28a462b511f4449831	262	283.05709824767047	390	\N	\N	\N	\N	0.0038022813688212928	\N	\N
264	run_26c1f61b9d9c4f28a462b511f4449831	263	266.99666801103086	390	\N	\N	\N	\N	0.003787878787878788	\N	\N
265	run_26c1f61b9d9c4f28a462b511f4449831	264	277.6526262437533	390	\N	\N	\N	\N	0.0037735849056603774	\N	\N
266	run_26c1f61b9d9c4f28a462b511f4449831	265	276.11919153906064	390	\N	\N	\N	\N	0.0037593984962406013	\N	\N
267	run_26c1f61b9d9c4f28a462b511f4449831	266	276.2633453352029	390	\N	\N	\N	\N	0.003745318352059925	\N	\N
268	run_26c1f61b9d9c4f28a462b511f4449831	267	280.03735624379334	390	\N	\N	\N	\N	0.0037313432835820895	\N	\N
269	run_26c1f61b9d9c4f28a462b511f4449831	268	285.37523605765443	390	\N	\N	\N	\N	0.0037174721189591076	\N	\N
270	run_26c1f61b9d9c4f28a462b511f4449831	269	280.30319868765855	390	\N	\N	\N	\N	0.003703703703703704	\N	\N
271	run_26c1f61b9d9c4f28a462b511f4449831	270	279.40473291428685	390	\N	\N	\N	\N	0.0036900369003690036	\N	\N
272	run_26c1f61b9d9c4f28a462b511f4449831	271	277.22808868458014	390	\N	\N	\N	\N	0.003676470588235294	\N	\N
273	run_26c1f61b9d9c4f28a462b511f4449831	272	279.82879704198933	390	\N	\N	\N	\N	0.003663003663003663	\N	\N
274	run_26c1f61b9d9c4f28a462b511f4449831	273	285.2167484292355	390	\N	\N	\N	\N	0.0036496350364963502	\N	\N
275	run_26c1f61b9d9c4f28a462b511f4449831	274	278.86832118916516	390	\N	\N	\N	\N	0.0036363636363636364	\N	\N
276	run_26c1f61b9d9c4f28a462b511f4449831	275	275.2876167219844	390	\N	\N	\N	\N	0.0036231884057971015	\N	\N
277	run_26c1f61b9d9c4f28a462b511f4449831	276	274.88017552209106	390	\N	\N	\N	\N	0.0036101083032490976	\N	\N
278	run_26c1f61b9d9c4f28a462b511f4449831	277	275.84747515644307	390	\N	\N	\N	\N	0.0035971223021582736	\N	\N
279	run_26c1f61b9d9c4f28a462b511f4449831	278	274.6109684583046	390	\N	\N	\N	\N	0.0035842293906810036	\N	\N
280	run_26c1f61b9d9c4f28a462b511f4449831	279	287.23469141091806	390	\N	\N	\N	\N	0.0035714285714285713	\N	\N
281	run_26c1f61b9d9c4f28a462b511f4449831	280	283.6936471757122	390	\N	\N	\N	\N	0.0035587188612099642	\N	\N
282	run_26c1f61b9d9c4f28a462b511f4449831	281	280.9085158756759	390	\N	\N	\N	\N	0.0035460992907801418	\N	\N
283	run_26c1f61b9d9c4f28a462b511f4449831	282	289.5699661834964	390	\N	\N	\N	\N	0.0035335689045936395	\N	\N
284	run_26c1f61b9d9c4f28a462b511f4449831	283	279.1594391667709	390	\N	\N	\N	\N	0.0035211267605633804	\N	\N
285	run_26c1f61b9d9c4f28a462b511f4449831	284	286.3895165602696	390	\N	\N	\N	\N	0.0035087719298245615	\N	\N
286	run_26c1f61b9d9c4f28a462b511f4449831	285	286.8044248885664	390	\N	\N	\N	\N	0.0034965034965034965	\N	\N
287	run_26c1f61b9d9c4f28a462b511f4449831	286	275.2427198388285	390	\N	\N	\N	\N	0.003484320557491289	\N	\N
288	run_26c1f61b9d9c4f28a462b511f4449831	287	275.36319048424923	390	\N	\N	\N	\N	0.003472222222222222	\N	\N
289	run_26c1f61b9d9c4f28a462b511f4449831	288	278.6837937752872	390	\N	\N	\N	\N	0.0034602076124567475	\N	\N
290	run_26c1f61b9d9c4f28a462b511f4449831	289	288.0276990236239	390	\N	\N	\N	\N	0.0034482758620689655	\N	\N
291	run_26c1f61b9d9c4f28a462b511f4449831	290	290.14666882929305	390	\N	\N	\N	\N	0.003436426116838488	\N	\N
292	run_26c1f61b9d9c4f28a462b511f4449831	291	277.69983895382376	390	\N	\N	\N	\N	0.003424657534246575	\N	\N
293	run_26c1f61b9d9c4f28a462b511f4449831	292	289.25134029916	390	\N	\N	\N	\N	0.0034129692832764505	\N	\N
294	run_26c1f61b9d9c4f28a462b511f4449831	293	282.26384006378487	390	\N	\N	\N	\N	0.003401360544217687	\N	\N
295	run_26c1f61b9d9c4f28a462b511f4449831	294	282.38144323025625	390	\N	\N	\N	\N	0.003389830508474576	\N	\N
296	run_26c1f61b9d9c4f28a462b511f4449831	295	281.76231510078276	390	\N	\N	\N	\N	0.0033783783783783786	\N	\N
297	run_26c1f61b9d9c4f28a462b511f4449831	296	283.06661928132775	390	\N	\N	\N	\N	0.003367003367003367	\N	\N
298	run_26c1f61b9d9c4f28a462b511f4449831	297	275.76302498279586	390	\N	\N	\N	\N	0.003355704697986577	\N	\N
299	run_26c1f61b9d9c4f28a462b511f4449831	298	280.0159387730097	390	\N	\N	\N	\N	0.0033444816053511705	\N	\N
300	run_26c1f61b9d9c4f28a462b511f4449831	299	279.01093051735614	390	\N	\N	\N	\N	0.0033333333333333335	\N	\N
301	run_9fe7c00daf084dfe83489acaa7dfa4e7	0	2.8549038678204526	390	\N	\N	\N	\N	NaN	\N	\N
302	run_9fe7c00daf084dfe83489acaa7dfa4e7	1	31.01401460948823	390	\N	\N	\N	\N	0.5	\N	\N
303	run_9fe7c00daf084dfe83489acaa7dfa4e7	2	59.60951531387342	390	\N	\N	\N	\N	0.3333333333333333	\N	\N
304	run_9fe7c00daf084dfe83489acaa7dfa4e7	3	71.99414705320498	390	\N	\N	\N	\N	0.25	\N	\N
305	run_9fe7c00daf084dfe83489acaa7dfa4e7	4	72.34545913974299	390	\N	\N	\N	\N	0.2	\N	\N
306	run_9fe7c00daf084dfe83489acaa7dfa4e7	5	86.93047971474277	390	\N	\N	\N	\N	0.16666666666666666	\N	\N
307	run_9fe7c00daf084dfe83489acaa7dfa4e7	6	96.09878621806747	390	\N	\N	\N	\N	0.14285714285714285	\N	\N
308	run_9fe7c00daf084dfe83489acaa7dfa4e7	7	104.0666583614853	390	\N	\N	\N	\N	0.125	\N	\N
309	run_9fe7c00daf084dfe83489acaa7dfa4e7	8	110.52182700137696	390	\N	\N	\N	\N	0.1111111111111111	\N	\N
310	run_9fe7c00daf084dfe83489acaa7dfa4e7	9	113.43407389190723	390	\N	\N	\N	\N	0.1	\N	\N
311	run_9fe7c00daf084dfe83489acaa7dfa4e7	10	120.8441995846257	390	\N	\N	\N	\N	0.09090909090909091	\N	\N
312	run_9fe7c00daf084dfe83489acaa7dfa4e7	11	121.3144910122286	390	\N	\N	\N	\N	0.08333333333333333	\N	\N
313	run_9fe7c00daf084dfe83489acaa7dfa4e7	12	123.76491393647082	390	\N	\N	\N	\N	0.07692307692307693	\N	\N
314	run_9fe7c00daf084dfe83489acaa7dfa4e7	13	139.5319809216358	390	\N	\N	\N	\N	0.07142857142857142	\N	\N
315	run_9fe7c00daf084dfe83489acaa7dfa4e7	14	137.2039502541341	390	\N	\N	\N	\N	0.06666666666666667	\N	\N
316	run_9fe7c00daf084dfe83489acaa7dfa4e7	15	140.82099074308863	390	\N	\N	\N	\N	0.0625	\N	\N
317	run_9fe7c00daf084dfe83489acaa7dfa4e7	16	133.68579121356686	390	\N	\N	\N	\N	0.058823529411764705	\N	\N
318	run_9fe7c00daf084dfe83489acaa7dfa4e7	17	143.68757515230368	390	\N	\N	\N	\N	0.05555555555555555	\N	\N
319	run_9fe7c00daf084dfe83489acaa7dfa4e7	18	151.3178049390448	390	\N	\N	\N	\N	0.05263157894736842	\N	\N
320	run_9fe7c00daf084dfe83489acaa7dfa4e7	19	143.3304653162565	390	\N	\N	\N	\N	0.05	\N	\N
321	run_9fe7c00daf084dfe83489acaa7dfa4e7	20	157.71517420756948	390	\N	\N	\N	\N	0.047619047619047616	\N	\N
322	run_9fe7c00daf084dfe83489acaa7dfa4e7	21	152.6050111549022	390	\N	\N	\N	\N	0.045454545454545456	\N	\N
323	run_9fe7c00daf084dfe83489acaa7dfa4e7	22	158.78814019379513	390	\N	\N	\N	\N	0.043478260869565216	\N	\N
324	run_9fe7c00daf084dfe83489acaa7dfa4e7	23	158.23664089320573	390	\N	\N	\N	\N	0.041666666666666664	\N	\N
325	run_9fe7c00daf084dfe83489acaa7dfa4e7	24	162.0362725662666	390	\N	\N	\N	\N	0.04	\N	\N
326	run_9fe7c00daf084dfe83489acaa7dfa4e7	25	168.92179547395918	390	\N	\N	\N	\N	0.038461538461538464	\N	\N
327	run_9fe7c00daf084dfe83489acaa7dfa4e7	26	162.77460430293095	390	\N	\N	\N	\N	0.037037037037037035	\N	\N
328	run_9fe7c00daf084dfe83489acaa7dfa4e7	27	174.43222323759238	390	\N	\N	\N	\N	0.03571428571428571	\N	\N
329	run_9fe7c00daf084dfe83489acaa7dfa4e7	28	164.4549199247994	390	\N	\N	\N	\N	0.034482758620689655	\N	\N
330	run_9fe7c00daf084dfe83489acaa7dfa4e7	29	165.4013206346366	390	\N	\N	\N	\N	0.03333333333333333	\N	\N
331	run_9fe7c00daf084dfe83489acaa7dfa4e7	30	175.2544908188704	390	\N	\N	\N	\N	0.03225806451612903	\N	\N
332	run_9fe7c00daf084dfe83489acaa7dfa4e7	31	167.95699319437853	390	\N	\N	\N	\N	0.03125	\N	\N
333	run_9fe7c00daf084dfe83489acaa7dfa4e7	32	172.97346217026356	390	\N	\N	\N	\N	0.030303030303030304	\N	\N
334	run_9fe7c00daf084dfe83489acaa7dfa4e7	33	180.8534906553039	390	\N	\N	\N	\N	0.029411764705882353	\N	\N
335	run_9fe7c00daf084dfe83489acaa7dfa4e7	34	183.8198901025312	390	\N	\N	\N	\N	0.02857142857142857	\N	\N
336	run_9fe7c00daf084dfe83489acaa7dfa4e7	35	170.3012713785256	390	\N	\N	\N	\N	0.027777777777777776	\N	\N
337	run_9fe7c00daf084dfe83489acaa7dfa4e7	36	183.07561055933832	390	\N	\N	\N	\N	0.02702702702702703	\N	\N
338	run_9fe7c00daf084dfe83489acaa7dfa4e7	37	191.2981339726831	390	\N	\N	\N	\N	0.02631578947368421	\N	\N
339	run_9fe7c00daf084dfe83489acaa7dfa4e7	38	189.15296715785541	390	\N	\N	\N	\N	0.02564102564102564	\N	\N
340	run_9fe7c00daf084dfe83489acaa7dfa4e7	39	183.24340551263293	390	\N	\N	\N	\N	0.025	\N	\N
341	run_9fe7c00daf084dfe83489acaa7dfa4e7	40	182.67540114824223	390	\N	\N	\N	\N	0.024390243902439025	\N	\N
342	run_9fe7c00daf084dfe83489acaa7dfa4e7	41	185.40076639073823	390	\N	\N	\N	\N	0.023809523809523808	\N	\N
343	run_9fe7c00daf084dfe83489acaa7dfa4e7	42	182.2958204643216	390	\N	\N	\N	\N	0.023255813953488372	\N	\N
344	run_9fe7c00daf084dfe83489acaa7dfa4e7	43	187.88662539922763	390	\N	\N	\N	\N	0.022727272727272728	\N	\N
345	run_9fe7c00daf084dfe83489acaa7dfa4e7	44	189.3967746206278	390	\N	\N	\N	\N	0.022222222222222223	\N	\N
346	run_9fe7c00daf084dfe83489acaa7dfa4e7	45	190.70361393190532	390	\N	\N	\N	\N	0.021739130434782608	\N	\N
347	run_9fe7c00daf084dfe83489acaa7dfa4e7	46	198.4201537204519	390	\N	\N	\N	\N	0.02127659574468085	\N	\N
348	run_9fe7c00daf084dfe83489acaa7dfa4e7	47	192.4091975998717	390	\N	\N	\N	\N	0.020833333333333332	\N	\N
349	run_9fe7c00daf084dfe83489acaa7dfa4e7	48	187.30223933724335	390	\N	\N	\N	\N	0.02040816326530612	\N	\N
350	run_9fe7c00daf084dfe83489acaa7dfa4e7	49	200.856005569209	390	\N	\N	\N	\N	0.02	\N	\N
351	run_9fe7c00daf084dfe83489acaa7dfa4e7	50	191.22762713956797	390	\N	\N	\N	\N	0.0196078431372549	\N	\N
352	run_9fe7c00daf084dfe83489acaa7dfa4e7	51	195.3259956734359	390	\N	\N	\N	\N	0.019230769230769232	\N	\N
353	run_9fe7c00daf084dfe83489acaa7dfa4e7	52	197.84560535435853	390	\N	\N	\N	\N	0.018867924528301886	\N	\N
354	run_9fe7c00daf084dfe83489acaa7dfa4e7	53	197.72843122828223	390	\N	\N	\N	\N	0.018518518518518517	\N	\N
355	run_9fe7c00daf084dfe83489acaa7dfa4e7	54	195.35134868522567	390	\N	\N	\N	\N	0.01818181818181818	\N	\N
356	run_9fe7c00daf084dfe83489acaa7dfa4e7	55	200.02293109462693	390	\N	\N	\N	\N	0.017857142857142856	\N	\N
357	run_9fe7c00daf084dfe83489acaa7dfa4e7	56	213.07328902065476	390	\N	\N	\N	\N	0.017543859649122806	\N	\N
358	run_9fe7c00daf084dfe83489acaa7dfa4e7	57	199.9876997559704	390	\N	\N	\N	\N	0.017241379310344827	\N	\N
359	run_9fe7c00daf084dfe83489acaa7dfa4e7	58	203.19515463830385	390	\N	\N	\N	\N	0.01694915254237288	\N	\N
360	run_9fe7c00daf084dfe83489acaa7dfa4e7	59	210.33668739234875	390	\N	\N	\N	\N	0.016666666666666666	\N	\N
361	run_9fe7c00daf084dfe83489acaa7dfa4e7	60	209.26704680043778	390	\N	\N	\N	\N	0.01639344262295082	\N	\N
362	run_9fe7c00daf084dfe83489acaa7dfa4e7	61	210.17329163943964	390	\N	\N	\N	\N	0.016129032258064516	\N	\N
363	run_9fe7c00daf084dfe83489acaa7dfa4e7	62	211.4675932752877	390	\N	\N	\N	\N	0.015873015873015872	\N	\N
364	run_9fe7c00daf084dfe83489acaa7dfa4e7	63	198.10422147316604	390	\N	\N	\N	\N	0.015625	\N	\N
365	run_9fe7c00daf084dfe83489acaa7dfa4e7	64	204.39883830897858	390	\N	\N	\N	\N	0.015384615384615385	\N	\N
366	run_9fe7c00daf084dfe83489acaa7dfa4e7	65	210.12445280759948	390	\N	\N	\N	\N	0.015151515151515152	\N	\N
367	run_9fe7c00daf084dfe83489acaa7dfa4e7	66	212.7288814414229	390	\N	\N	\N	\N	0.014925373134328358	\N	\N
368	run_9fe7c00daf084dfe83489acaa7dfa4e7	67	217.44699177677884	390	\N	\N	\N	\N	0.014705882352941176	\N	\N
369	run_9fe7c00daf084dfe83489acaa7dfa4e7	68	214.05328570509698	390	\N	\N	\N	\N	0.014492753623188406	\N	\N
370	run_9fe7c00daf084dfe83489acaa7dfa4e7	69	211.2334420748819	390	\N	\N	\N	\N	0.014285714285714285	\N	\N
371	run_9fe7c00daf084dfe83489acaa7dfa4e7	70	213.3304403302257	390	\N	\N	\N	\N	0.014084507042253521	\N	\N
372	run_9fe7c00daf084dfe83489acaa7dfa4e7	71	212.77789781150537	390	\N	\N	\N	\N	0.013888888888888888	\N	\N
373	run_9fe7c00daf084dfe83489acaa7dfa4e7	72	215.75810181236758	390	\N	\N	\N	\N	0.0136986301369863	\N	\N
374	run_9fe7c00daf084dfe83489acaa7dfa4e7	73	218.57446254930974	390	\N	\N	\N	\N	0.013513513513513514	\N	\N
375	run_9fe7c00daf084dfe83489acaa7dfa4e7	74	214.17535890569525	390	\N	\N	\N	\N	0.013333333333333334	\N	\N
376	run_9fe7c00daf084dfe83489acaa7dfa4e7	75	212.46853408033326	390	\N	\N	\N	\N	0.013157894736842105	\N	\N
377	run_9fe7c00daf084dfe83489acaa7dfa4e7	76	212.91656894947698	390	\N	\N	\N	\N	0.012987012987012988	\N	\N
378	run_9fe7c00daf084dfe83489acaa7dfa4e7	77	223.3203237835511	390	\N	\N	\N	\N	0.01282051282051282	\N	\N
379	run_9fe7c00daf084dfe83489acaa7dfa4e7	78	224.87731346430013	390	\N	\N	\N	\N	0.012658227848101266	\N	\N
380	run_9fe7c00daf084dfe83489acaa7dfa4e7	79	224.06212188093994	390	\N	\N	\N	\N	0.0125	\N	\N
381	run_9fe7c00daf084dfe83489acaa7dfa4e7	80	224.00673791753158	390	\N	\N	\N	\N	0.012345679012345678	\N	\N
382	run_9fe7c00daf084dfe83489acaa7dfa4e7	81	224.5025344868482	390	\N	\N	\N	\N	0.012195121951219513	\N	\N
383	run_9fe7c00daf084dfe83489acaa7dfa4e7	82	220.9304849724785	390	\N	\N	\N	\N	0.012048192771084338	\N	\N
384	run_9fe7c00daf084dfe83489acaa7dfa4e7	83	224.85977024585173	390	\N	\N	\N	\N	0.011904761904761904	\N	\N
385	run_9fe7c00daf084dfe83489acaa7dfa4e7	84	216.87209161239988	390	\N	\N	\N	\N	0.011764705882352941	\N	\N
386	run_9fe7c00daf084dfe83489acaa7dfa4e7	85	221.7018172786601	390	\N	\N	\N	\N	0.011627906976744186	\N	\N
387	run_9fe7c00daf084dfe83489acaa7dfa4e7	86	219.6267880737808	390	\N	\N	\N	\N	0.011494252873563218	\N	\N
388	run_9fe7c00daf084dfe83489acaa7dfa4e7	87	227.50167505839997	390	\N	\N	\N	\N	0.011363636363636364	\N	\N
389	run_9fe7c00daf084dfe83489acaa7dfa4e7	88	221.53199461641515	390	\N	\N	\N	\N	0.011235955056179775	\N	\N
390	run_9fe7c00daf084dfe83489acaa7dfa4e7	89	224.44962045445075	390	\N	\N	\N	\N	0.011111111111111112	\N	\N
391	run_9fe7c00daf084dfe83489acaa7dfa4e7	90	227.5448318966781	390	\N	\N	\N	\N	0.01098901098901099	\N	\N
392	run_9fe7c00daf084dfe83489acaa7dfa4e7	91	232.86314295549272	390	\N	\N	\N	\N	0.010869565217391304	\N	\N
393	run_9fe7c00daf084dfe83489acaa7dfa4e7	92	222.67023098631572	390	\N	\N	\N	\N	0.010752688172043012	\N	\N
394	run_9fe7c00daf084dfe83489acaa7dfa4e7	93	222.47101504604083	390	\N	\N	\N	\N	0.010638297872340425	\N	\N
395	run_9fe7c00daf084dfe83489acaa7dfa4e7	94	231.78020829061174	390	\N	\N	\N	\N	0.010526315789473684	\N	\N
396	run_9fe7c00daf084dfe83489acaa7dfa4e7	95	222.68550950274545	390	\N	\N	\N	\N	0.010416666666666666	\N	\N
397	run_9fe7c00daf084dfe83489acaa7dfa4e7	96	230.99755400587017	390	\N	\N	\N	\N	0.010309278350515464	\N	\N
398	run_9fe7c00daf084dfe83489acaa7dfa4e7	97	226.39802433723736	390	\N	\N	\N	\N	0.01020408163265306	\N	\N
399	run_9fe7c00daf084dfe83489acaa7dfa4e7	98	229.22748794203915	390	\N	\N	\N	\N	0.010101010101010102	\N	\N
400	run_9fe7c00daf084dfe83489acaa7dfa4e7	99	221.15405041883773	390	\N	\N	\N	\N	0.01	\N	\N
401	run_9fe7c00daf084dfe83489acaa7dfa4e7	100	234.32323288056975	390	\N	\N	\N	\N	0.009900990099009901	\N	\N
402	run_9fe7c00daf084dfe83489acaa7dfa4e7	101	228.74750539680517	390	\N	\N	\N	\N	0.00980392156862745	\N	\N
403	run_9fe7c00daf084dfe83489acaa7dfa4e7	102	227.24317431049928	390	\N	\N	\N	\N	0.009708737864077669	\N	\N
404	run_9fe7c00daf084dfe83489acaa7dfa4e7	103	242.6049617561343	390	\N	\N	\N	\N	0.009615384615384616	\N	\N
405	run_9fe7c00daf084dfe83489acaa7dfa4e7	104	236.25722691273418	390	\N	\N	\N	\N	0.009523809523809525	\N	\N
406	run_9fe7c00daf084dfe83489acaa7dfa4e7	105	250.71610147469707	390	\N	\N	\N	\N	0.009433962264150943	\N	\N
407	run_9fe7c00daf084dfe83489acaa7dfa4e7	106	235.68080775979803	390	\N	\N	\N	\N	0.009345794392523364	\N	\N
408	run_9fe7c00daf084dfe83489acaa7dfa4e7	107	232.36570188115275	390	\N	\N	\N	\N	0.009259259259259259	\N	\N
409	run_9fe7c00daf084dfe83489acaa7dfa4e7	108	235.10593480416426	390	\N	\N	\N	\N	0.009174311926605505	\N	\N
410	run_9fe7c00daf084dfe83489acaa7dfa4e7	109	243.05811099049518	390	\N	\N	\N	\N	0.00909090909090909	\N	\N
411	run_9fe7c00daf084dfe83489acaa7dfa4e7	110	235.34179255218172	390	\N	\N	\N	\N	0.009009009009009009	\N	\N
412	run_9fe7c00daf084dfe83489acaa7dfa4e7	111	238.17979755965357	390	\N	\N	\N	\N	0.008928571428571428	\N	\N
413	run_9fe7c00daf084dfe83489acaa7dfa4e7	112	238.9523157753928	390	\N	\N	\N	\N	0.008849557522123894	\N	\N
414	run_9fe7c00daf084dfe83489acaa7dfa4e7	113	232.25957907418072	390	\N	\N	\N	\N	0.008771929824561403	\N	\N
415	run_9fe7c00daf084dfe83489acaa7dfa4e7	114	237.89093870641173	390	\N	\N	\N	\N	0.008695652173913044	\N	\N
416	run_9fe7c00daf084dfe83489acaa7dfa4e7	115	235.1657935038433	390	\N	\N	\N	\N	0.008620689655172414	\N	\N
417	run_9fe7c00daf084dfe83489acaa7dfa4e7	116	231.88132121500632	390	\N	\N	\N	\N	0.008547008547008548	\N	\N
418	run_9fe7c00daf084dfe83489acaa7dfa4e7	117	242.89462681254753	390	\N	\N	\N	\N	0.00847457627118644	\N	\N
419	run_9fe7c00daf084dfe83489acaa7dfa4e7	118	242.2843169935735	390	\N	\N	\N	\N	0.008403361344537815	\N	\N
420	run_9fe7c00daf084dfe83489acaa7dfa4e7	119	239.74749364431898	390	\N	\N	\N	\N	0.008333333333333333	\N	\N
421	run_9fe7c00daf084dfe83489acaa7dfa4e7	120	235.25240162869537	390	\N	\N	\N	\N	0.008264462809917356	\N	\N
422	run_9fe7c00daf084dfe83489acaa7dfa4e7	121	230.17207362142045	390	\N	\N	\N	\N	0.00819672131147541	\N	\N
423	run_9fe7c00daf084dfe83489acaa7dfa4e7	122	243.03670297788025	390	\N	\N	\N	\N	0.008130081300813009	\N	\N
424	run_9fe7c00daf084dfe83489acaa7dfa4e7	123	240.52532451352693	390	\N	\N	\N	\N	0.008064516129032258	\N	\N
425	run_9fe7c00daf084dfe83489acaa7dfa4e7	124	232.99651775741088	390	\N	\N	\N	\N	0.008	\N	\N
426	run_9fe7c00daf084dfe83489acaa7dfa4e7	125	241.51345135273436	390	\N	\N	\N	\N	0.007936507936507936	\N	\N
427	run_9fe7c00daf084dfe83489acaa7dfa4e7	126	234.60344342609255	390	\N	\N	\N	\N	0.007874015748031496	\N	\N
428	run_9fe7c00daf084dfe83489acaa7dfa4e7	127	242.46838503983935	390	\N	\N	\N	\N	0.0078125	\N	\N
429	run_9fe7c00daf084dfe83489acaa7dfa4e7	128	243.70579184512812	390	\N	\N	\N	\N	0.007751937984496124	\N	\N
430	run_9fe7c00daf084dfe83489acaa7dfa4e7	129	245.1506327134087	390	\N	\N	\N	\N	0.007692307692307693	\N	\N
431	run_9fe7c00daf084dfe83489acaa7dfa4e7	130	244.84496230364527	390	\N	\N	\N	\N	0.007633587786259542	\N	\N
432	run_9fe7c00daf084dfe83489acaa7dfa4e7	131	244.99466959957644	390	\N	\N	\N	\N	0.007575757575757576	\N	\N
433	run_9fe7c00daf084dfe83489acaa7dfa4e7	132	238.81810704046316	390	\N	\N	\N	\N	0.007518796992481203	\N	\N
434	run_9fe7c00daf084dfe83489acaa7dfa4e7	133	242.9737542544715	390	\N	\N	\N	\N	0.007462686567164179	\N	\N
435	run_9fe7c00daf084dfe83489acaa7dfa4e7	134	242.7073428706408	390	\N	\N	\N	\N	0.007407407407407408	\N	\N
436	run_9fe7c00daf084dfe83489acaa7dfa4e7	135	244.45438197052067	390	\N	\N	\N	\N	0.007352941176470588	\N	\N
437	run_9fe7c00daf084dfe83489acaa7dfa4e7	136	247.34913673996382	390	\N	\N	\N	\N	0.0072992700729927005	\N	\N
438	run_9fe7c00daf084dfe83489acaa7dfa4e7	137	249.45778681439313	390	\N	\N	\N	\N	0.007246376811594203	\N	\N
439	run_9fe7c00daf084dfe83489acaa7dfa4e7	138	254.898748088415	390	\N	\N	\N	\N	0.007194244604316547	\N	\N
440	run_9fe7c00daf084dfe83489acaa7dfa4e7	139	234.23855781655018	390	\N	\N	\N	\N	0.007142857142857143	\N	\N
441	run_9fe7c00daf084dfe83489acaa7dfa4e7	140	249.44320291264034	390	\N	\N	\N	\N	0.0070921985815602835	\N	\N
442	run_9fe7c00daf084dfe83489acaa7dfa4e7	141	246.79949982596398	390	\N	\N	\N	\N	0.007042253521126761	\N	\N
443	run_9fe7c00daf084dfe83489acaa7dfa4e7	142	259.52283223918556	390	\N	\N	\N	\N	0.006993006993006993	\N	\N
444	run_9fe7c00daf084dfe83489acaa7dfa4e7	143	253.15824273430562	390	\N	\N	\N	\N	0.006944444444444444	\N	\N
445	run_9fe7c00daf084dfe83489acaa7dfa4e7	144	240.5712647913079	390	\N	\N	\N	\N	0.006896551724137931	\N	\N
446	run_9fe7c00daf084dfe83489acaa7dfa4e7	145	251.18827642949284	390	\N	\N	\N	\N	0.00684931506849315	\N	\N
447	run_9fe7c00daf084dfe83489acaa7dfa4e7	146	246.91810949743353	390	\N	\N	\N	\N	0.006802721088435374	\N	\N
448	run_9fe7c00daf084dfe83489acaa7dfa4e7	147	254.82847162730127	390	\N	\N	\N	\N	0.006756756756756757	\N	\N
449	run_9fe7c00daf084dfe83489acaa7dfa4e7	148	244.9195790171185	390	\N	\N	\N	\N	0.006711409395973154	\N	\N
450	run_9fe7c00daf084dfe83489acaa7dfa4e7	149	250.0232636207045	390	\N	\N	\N	\N	0.006666666666666667	\N	\N
451	run_9fe7c00daf084dfe83489acaa7dfa4e7	150	250.20621810250938	390	\N	\N	\N	\N	0.006622516556291391	\N	\N
452	run_9fe7c00daf084dfe83489acaa7dfa4e7	151	250.71022910561766	390	\N	\N	\N	\N	0.006578947368421052	\N	\N
453	run_9fe7c00daf084dfe83489acaa7dfa4e7	152	248.60159261390623	390	\N	\N	\N	\N	0.006535947712418301	\N	\N
454	run_9fe7c00daf084dfe83489acaa7dfa4e7	153	242.65790131758843	390	\N	\N	\N	\N	0.006493506493506494	\N	\N
455	run_9fe7c00daf084dfe83489acaa7dfa4e7	154	254.47337076442372	390	\N	\N	\N	\N	0.0064516129032258064	\N	\N
456	run_9fe7c00daf084dfe83489acaa7dfa4e7	155	257.4880574520991	390	\N	\N	\N	\N	0.00641025641025641	\N	\N
457	run_9fe7c00daf084dfe83489acaa7dfa4e7	156	252.47093327426407	390	\N	\N	\N	\N	0.006369426751592357	\N	\N
458	run_9fe7c00daf084dfe83489acaa7dfa4e7	157	248.04363708407072	390	\N	\N	\N	\N	0.006329113924050633	\N	\N
459	run_9fe7c00daf084dfe83489acaa7dfa4e7	158	254.46035988477226	390	\N	\N	\N	\N	0.006289308176100629	\N	\N
460	run_9fe7c00daf084dfe83489acaa7dfa4e7	159	256.5853919573909	390	\N	\N	\N	\N	0.00625	\N	\N
461	run_9fe7c00daf084dfe83489acaa7dfa4e7	160	253.19154966114905	390	\N	\N	\N	\N	0.006211180124223602	\N	\N
462	run_9fe7c00daf084dfe83489acaa7dfa4e7	161	254.31032629796445	390	\N	\N	\N	\N	0.006172839506172839	\N	\N
463	run_9fe7c00daf084dfe83489acaa7dfa4e7	162	261.73119741367594	390	\N	\N	\N	\N	0.006134969325153374	\N	\N
464	run_9fe7c00daf084dfe83489acaa7dfa4e7	163	249.39986677276696	390	\N	\N	\N	\N	0.006097560975609756	\N	\N
465	run_9fe7c00daf084dfe83489acaa7dfa4e7	164	252.50774535590887	390	\N	\N	\N	\N	0.006060606060606061	\N	\N
466	run_9fe7c00daf084dfe83489acaa7dfa4e7	165	246.07120964215844	390	\N	\N	\N	\N	0.006024096385542169	\N	\N
467	run_9fe7c00daf084dfe83489acaa7dfa4e7	166	252.40036101953342	390	\N	\N	\N	\N	0.005988023952095809	\N	\N
468	run_9fe7c00daf084dfe83489acaa7dfa4e7	167	252.5004673355152	390	\N	\N	\N	\N	0.005952380952380952	\N	\N
469	run_9fe7c00daf084dfe83489acaa7dfa4e7	168	251.6940849458561	390	\N	\N	\N	\N	0.005917159763313609	\N	\N
470	run_9fe7c00daf084dfe83489acaa7dfa4e7	169	253.3200647577367	390	\N	\N	\N	\N	0.0058823529411764705	\N	\N
471	run_9fe7c00daf084dfe83489acaa7dfa4e7	170	266.0680756095088	390	\N	\N	\N	\N	0.005847953216374269	\N	\N
472	run_9fe7c00daf084dfe83489acaa7dfa4e7	171	256.3930803571237	390	\N	\N	\N	\N	0.005813953488372093	\N	\N
473	run_9fe7c00daf084dfe83489acaa7dfa4e7	172	257.09335972262716	390	\N	\N	\N	\N	0.005780346820809248	\N	\N
474	run_9fe7c00daf084dfe83489acaa7dfa4e7	173	268.9435760995344	390	\N	\N	\N	\N	0.005747126436781609	\N	\N
475	run_9fe7c00daf084dfe83489acaa7dfa4e7	174	257.9360349182322	390	\N	\N	\N	\N	0.005714285714285714	\N	\N
476	run_9fe7c00daf084dfe83489acaa7dfa4e7	175	249.85475807869324	390	\N	\N	\N	\N	0.005681818181818182	\N	\N
477	run_9fe7c00daf084dfe83489acaa7dfa4e7	176	260.82252405596597	390	\N	\N	\N	\N	0.005649717514124294	\N	\N
478	run_9fe7c00daf084dfe83489acaa7dfa4e7	177	254.4037909276021	390	\N	\N	\N	\N	0.0056179775280898875	\N	\N
479	run_9fe7c00daf084dfe83489acaa7dfa4e7	178	267.56326736342544	390	\N	\N	\N	\N	0.00558659217877095	\N	\N
480	run_9fe7c00daf084dfe83489acaa7dfa4e7	179	253.4184025342717	390	\N	\N	\N	\N	0.005555555555555556	\N	\N
481	run_9fe7c00daf084dfe83489acaa7dfa4e7	180	257.02262605481747	390	\N	\N	\N	\N	0.0055248618784530384	\N	\N
482	run_9fe7c00daf084dfe83489acaa7dfa4e7	181	252.17095959042894	390	\N	\N	\N	\N	0.005494505494505495	\N	\N
483	run_9fe7c00daf084dfe83489acaa7dfa4e7	182	260.9616854328581	390	\N	\N	\N	\N	0.00546448087431694	\N	\N
484	run_9fe7c00daf084dfe83489acaa7dfa4e7	183	255.66891002078611	390	\N	\N	\N	\N	0.005434782608695652	\N	\N
485	run_9fe7c00daf084dfe83489acaa7dfa4e7	184	260.6905429801323	390	\N	\N	\N	\N	0.005405405405405406	\N	\N
486	run_9fe7c00daf084dfe83489acaa7dfa4e7	185	259.4028945482551	390	\N	\N	\N	\N	0.005376344086021506	\N	\N
487	run_9fe7c00daf084dfe83489acaa7dfa4e7	186	258.4905853632389	390	\N	\N	\N	\N	0.0053475935828877	\N	\N
488	run_9fe7c00daf084dfe83489acaa7dfa4e7	187	266.5381725953712	390	\N	\N	\N	\N	0.005319148936170213	\N	\N
489	run_9fe7c00daf084dfe83489acaa7dfa4e7	188	266.7646827428561	390	\N	\N	\N	\N	0.005291005291005291	\N	\N
490	run_9fe7c00daf084dfe83489acaa7dfa4e7	189	262.6630243606016	390	\N	\N	\N	\N	0.005263157894736842	\N	\N
491	run_9fe7c00daf084dfe83489acaa7dfa4e7	190	258.1122971156095	390	\N	\N	\N	\N	0.005235602094240838	\N	\N
492	run_9fe7c00daf084dfe83489acaa7dfa4e7	191	257.5223268188764	390	\N	\N	\N	\N	0.005208333333333333	\N	\N
493	run_9fe7c00daf084dfe83489acaa7dfa4e7	192	264.48414982986714	390	\N	\N	\N	\N	0.0051813471502590676	\N	\N
494	run_9fe7c00daf084dfe83489acaa7dfa4e7	193	275.34722133250807	390	\N	\N	\N	\N	0.005154639175257732	\N	\N
495	run_9fe7c00daf084dfe83489acaa7dfa4e7	194	261.3658924039582	390	\N	\N	\N	\N	0.005128205128205128	\N	\N
496	run_9fe7c00daf084dfe83489acaa7dfa4e7	195	259.9822759416626	390	\N	\N	\N	\N	0.00510204081632653	\N	\N
497	run_9fe7c00daf084dfe83489acaa7dfa4e7	196	260.6732508914718	390	\N	\N	\N	\N	0.005076142131979695	\N	\N
498	run_9fe7c00daf084dfe83489acaa7dfa4e7	197	258.936997566251	390	\N	\N	\N	\N	0.005050505050505051	\N	\N
499	run_9fe7c00daf084dfe83489acaa7dfa4e7	198	259.8041116651592	390	\N	\N	\N	\N	0.005025125628140704	\N	\N
500	run_9fe7c00daf084dfe83489acaa7dfa4e7	199	263.890698164171	390	\N	\N	\N	\N	0.005	\N	\N
501	run_9fe7c00daf084dfe83489acaa7dfa4e7	200	272.33449572618446	390	\N	\N	\N	\N	0.004975124378109453	\N	\N
502	run_9fe7c00daf084dfe83489acaa7dfa4e7	201	265.40829540699167	390	\N	\N	\N	\N	0.0049504950495049506	\N	\N
503	run_9fe7c00daf084dfe83489acaa7dfa4e7	202	263.10668732203317	390	\N	\N	\N	\N	0.0049261083743842365	\N	\N
504	run_9fe7c00daf084dfe83489acaa7dfa4e7	203	257.8314319792072	390	\N	\N	\N	\N	0.004901960784313725	\N	\N
505	run_9fe7c00daf084dfe83489acaa7dfa4e7	204	267.216459148991	390	\N	\N	\N	\N	0.004878048780487805	\N	\N
506	run_9fe7c00daf084dfe83489acaa7dfa4e7	205	266.2597363356564	390	\N	\N	\N	\N	0.0048543689320388345	\N	\N
507	run_9fe7c00daf084dfe83489acaa7dfa4e7	206	260.5039212472507	390	\N	\N	\N	\N	0.004830917874396135	\N	\N
508	run_9fe7c00daf084dfe83489acaa7dfa4e7	207	261.44359798213276	390	\N	\N	\N	\N	0.004807692307692308	\N	\N
509	run_9fe7c00daf084dfe83489acaa7dfa4e7	208	266.905597852511	390	\N	\N	\N	\N	0.004784688995215311	\N	\N
510	run_9fe7c00daf084dfe83489acaa7dfa4e7	209	272.4176406450627	390	\N	\N	\N	\N	0.004761904761904762	\N	\N
511	run_9fe7c00daf084dfe83489acaa7dfa4e7	210	270.72605683968715	390	\N	\N	\N	\N	0.004739336492890996	\N	\N
512	run_9fe7c00daf084dfe83489acaa7dfa4e7	211	268.8572901349816	390	\N	\N	\N	\N	0.0047169811320754715	\N	\N
513	run_9fe7c00daf084dfe83489acaa7dfa4e7	212	266.44813006872465	390	\N	\N	\N	\N	0.004694835680751174	\N	\N
514	run_9fe7c00daf084dfe83489acaa7dfa4e7	213	269.90159096668157	390	\N	\N	\N	\N	0.004672897196261682	\N	\N
515	run_9fe7c00daf084dfe83489acaa7dfa4e7	214	268.4713217032509	390	\N	\N	\N	\N	0.004651162790697674	\N	\N
516	run_9fe7c00daf084dfe83489acaa7dfa4e7	215	279.62807986239824	390	\N	\N	\N	\N	0.004629629629629629	\N	\N
517	run_9fe7c00daf084dfe83489acaa7dfa4e7	216	263.3333146827444	390	\N	\N	\N	\N	0.004608294930875576	\N	\N
518	run_9fe7c00daf084dfe83489acaa7dfa4e7	217	267.38293392070835	390	\N	\N	\N	\N	0.0045871559633027525	\N	\N
519	run_9fe7c00daf084dfe83489acaa7dfa4e7	218	275.7939364068289	390	\N	\N	\N	\N	0.0045662100456621	\N	\N
520	run_9fe7c00daf084dfe83489acaa7dfa4e7	219	268.3532357596077	390	\N	\N	\N	\N	0.004545454545454545	\N	\N
521	run_9fe7c00daf084dfe83489acaa7dfa4e7	220	277.0326877590574	390	\N	\N	\N	\N	0.004524886877828055	\N	\N
522	run_9fe7c00daf084dfe83489acaa7dfa4e7	221	269.9146828336437	390	\N	\N	\N	\N	0.0045045045045045045	\N	\N
523	run_9fe7c00daf084dfe83489acaa7dfa4e7	222	271.08591335164954	390	\N	\N	\N	\N	0.004484304932735426	\N	\N
524	run_9fe7c00daf084dfe83489acaa7dfa4e7	223	268.72926032852706	390	\N	\N	\N	\N	0.004464285714285714	\N	\N
525	run_9fe7c00daf084dfe83489acaa7dfa4e7	224	263.9026077531914	390	\N	\N	\N	\N	0.0044444444444444444	\N	\N
526	run_9fe7c00daf084dfe83489acaa7dfa4e7	225	266.1732826252456	390	\N	\N	\N	\N	0.004424778761061947	\N	\N
527	run_9fe7c00daf084dfe83489acaa7dfa4e7	226	282.3228865055441	390	\N	\N	\N	\N	0.004405286343612335	\N	\N
528	run_9fe7c00daf084dfe83489acaa7dfa4e7	227	274.6935541317629	390	\N	\N	\N	\N	0.0043859649122807015	\N	\N
529	run_9fe7c00daf084dfe83489acaa7dfa4e7	228	274.7149967884144	390	\N	\N	\N	\N	0.004366812227074236	\N	\N
530	run_9fe7c00daf084dfe83489acaa7dfa4e7	229	276.6722101942317	390	\N	\N	\N	\N	0.004347826086956522	\N	\N
531	run_9fe7c00daf084dfe83489acaa7dfa4e7	230	274.9669012150354	390	\N	\N	\N	\N	0.004329004329004329	\N	\N
532	run_9fe7c00daf084dfe83489acaa7dfa4e7	231	277.4468233954472	390	\N	\N	\N	\N	0.004310344827586207	\N	\N
533	run_9fe7c00daf084dfe83489acaa7dfa4e7	232	271.22188562935634	390	\N	\N	\N	\N	0.004291845493562232	\N	\N
534	run_9fe7c00daf084dfe83489acaa7dfa4e7	233	271.64916048030614	390	\N	\N	\N	\N	0.004273504273504274	\N	\N
535	run_9fe7c00daf084dfe83489acaa7dfa4e7	234	277.89809103175764	390	\N	\N	\N	\N	0.00425531914893617	\N	\N
536	run_9fe7c00daf084dfe83489acaa7dfa4e7	235	271.4302471064132	390	\N	\N	\N	\N	0.00423728813559322	\N	\N
537	run_9fe7c00daf084dfe83489acaa7dfa4e7	236	266.7495140883344	390	\N	\N	\N	\N	0.004219409282700422	\N	\N
538	run_9fe7c00daf084dfe83489acaa7dfa4e7	237	272.4842413774601	390	\N	\N	\N	\N	0.004201680672268907	\N	\N
539	run_9fe7c00daf084dfe83489acaa7dfa4e7	238	271.09939241556685	390	\N	\N	\N	\N	0.0041841004184100415	\N	\N
540	run_9fe7c00daf084dfe83489acaa7dfa4e7	239	277.0990515184581	390	\N	\N	\N	\N	0.004166666666666667	\N	\N
541	run_9fe7c00daf084dfe83489acaa7dfa4e7	240	270.63911157110306	390	\N	\N	\N	\N	0.004149377593360996	\N	\N
542	run_9fe7c00daf084dfe83489acaa7dfa4e7	241	269.140569529407	390	\N	\N	\N	\N	0.004132231404958678	\N	\N
543	run_9fe7c00daf084dfe83489acaa7dfa4e7	242	272.9927121244463	390	\N	\N	\N	\N	0.00411522633744856	\N	\N
544	run_9fe7c00daf084dfe83489acaa7dfa4e7	243	282.6229663775679	390	\N	\N	\N	\N	0.004098360655737705	\N	\N
545	run_9fe7c00daf084dfe83489acaa7dfa4e7	244	274.8232931223807	390	\N	\N	\N	\N	0.004081632653061225	\N	\N
546	run_9fe7c00daf084dfe83489acaa7dfa4e7	245	276.0716619051092	390	\N	\N	\N	\N	0.0040650406504065045	\N	\N
547	run_9fe7c00daf084dfe83489acaa7dfa4e7	246	275.51564395934645	390	\N	\N	\N	\N	0.004048582995951417	\N	\N
548	run_9fe7c00daf084dfe83489acaa7dfa4e7	247	277.1491557145081	390	\N	\N	\N	\N	0.004032258064516129	\N	\N
549	run_9fe7c00daf084dfe83489acaa7dfa4e7	248	280.51446440320274	390	\N	\N	\N	\N	0.004016064257028112	\N	\N
550	run_9fe7c00daf084dfe83489acaa7dfa4e7	249	283.05200496226564	390	\N	\N	\N	\N	0.004	\N	\N
551	run_9fe7c00daf084dfe83489acaa7dfa4e7	250	268.05077820858173	390	\N	\N	\N	\N	0.00398406374501992	\N	\N
552	run_9fe7c00daf084dfe83489acaa7dfa4e7	251	283.27704368947724	390	\N	\N	\N	\N	0.003968253968253968	\N	\N
553	run_9fe7c00daf084dfe83489acaa7dfa4e7	252	276.6529772879439	390	\N	\N	\N	\N	0.003952569169960474	\N	\N
554	run_9fe7c00daf084dfe83489acaa7dfa4e7	253	275.2627431727826	390	\N	\N	\N	\N	0.003937007874015748	\N	\N
555	run_9fe7c00daf084dfe83489acaa7dfa4e7	254	289.0553305166308	390	\N	\N	\N	\N	0.00392156862745098	\N	\N
556	run_9fe7c00daf084dfe83489acaa7dfa4e7	255	276.4112548949623	390	\N	\N	\N	\N	0.00390625	\N	\N
557	run_9fe7c00daf084dfe83489acaa7dfa4e7	256	287.1779000886599	390	\N	\N	\N	\N	0.0038910505836575876	\N	\N
558	run_9fe7c00daf084dfe83489acaa7dfa4e7	257	282.4880877523596	390	\N	\N	\N	\N	0.003875968992248062	\N	\N
559	run_9fe7c00daf084dfe83489acaa7dfa4e7	258	272.69312888966346	390	\N	\N	\N	\N	0.003861003861003861	\N	\N
560	run_9fe7c00daf084dfe83489acaa7dfa4e7	259	280.47583626351934	390	\N	\N	\N	\N	0.0038461538461538464	\N	\N
561	run_9fe7c00daf084dfe83489acaa7dfa4e7	260	281.9102016586887	390	\N	\N	\N	\N	0.0038314176245210726	\N	\N
562	run_9fe7c00daf084dfe83489acaa7dfa4e7	261	277.79015692936576	390	\N	\N	\N	\N	0.003816793893129771	\N	\N
563	run_9fe7c00daf084dfe83489acaa7dfa4e7	262	266.96787850682875	390	\N	\N	\N	\N	0.0038022813688212928	\N	\N
564	run_9fe7c00daf084dfe83489acaa7dfa4e7	263	277.0766845517775	390	\N	\N	\N	\N	0.003787878787878788	\N	\N
565	run_9fe7c00daf084dfe83489acaa7dfa4e7	264	278.0284590873726	390	\N	\N	\N	\N	0.0037735849056603774	\N	\N
566	run_9fe7c00daf084dfe83489acaa7dfa4e7	265	273.6367018231253	390	\N	\N	\N	\N	0.0037593984962406013	\N	\N
567	run_9fe7c00daf084dfe83489acaa7dfa4e7	266	288.49134915481807	390	\N	\N	\N	\N	0.003745318352059925	\N	\N
568	run_9fe7c00daf084dfe83489acaa7dfa4e7	267	278.32731588813164	390	\N	\N	\N	\N	0.0037313432835820895	\N	\N
569	run_9fe7c00daf084dfe83489acaa7dfa4e7	268	277.76881197567826	390	\N	\N	\N	\N	0.0037174721189591076	\N	\N
570	run_9fe7c00daf084dfe83489acaa7dfa4e7	269	278.4225927392481	390	\N	\N	\N	\N	0.003703703703703704	\N	\N
571	run_9fe7c00daf084dfe83489acaa7dfa4e7	270	276.18809145013006	390	\N	\N	\N	\N	0.0036900369003690036	\N	\N
572	run_9fe7c00daf084dfe83489acaa7dfa4e7	271	276.40910461129914	390	\N	\N	\N	\N	0.003676470588235294	\N	\N
573	run_9fe7c00daf084dfe83489acaa7dfa4e7	272	280.94295145925753	390	\N	\N	\N	\N	0.003663003663003663	\N	\N
574	run_9fe7c00daf084dfe83489acaa7dfa4e7	273	282.222507648825	390	\N	\N	\N	\N	0.0036496350364963502	\N	\N
575	run_9fe7c00daf084dfe83489acaa7dfa4e7	274	278.30216282591795	390	\N	\N	\N	\N	0.0036363636363636364	\N	\N
576	run_9fe7c00daf084dfe83489acaa7dfa4e7	275	280.567517021775	390	\N	\N	\N	\N	0.0036231884057971015	\N	\N
577	run_9fe7c00daf084dfe83489acaa7dfa4e7	276	274.25022491283494	390	\N	\N	\N	\N	0.0036101083032490976	\N	\N
578	run_9fe7c00daf084dfe83489acaa7dfa4e7	277	283.9893311083005	390	\N	\N	\N	\N	0.0035971223021582736	\N	\N
579	run_9fe7c00daf084dfe83489acaa7dfa4e7	278	277.81299664848234	390	\N	\N	\N	\N	0.0035842293906810036	\N	\N
580	run_9fe7c00daf084dfe83489acaa7dfa4e7	279	282.81413911832084	390	\N	\N	\N	\N	0.0035714285714285713	\N	\N
581	run_9fe7c00daf084dfe83489acaa7dfa4e7	280	277.3835685318596	390	\N	\N	\N	\N	0.0035587188612099642	\N	\N
582	run_9fe7c00daf084dfe83489acaa7dfa4e7	281	279.51904556190243	390	\N	\N	\N	\N	0.0035460992907801418	\N	\N
583	run_9fe7c00daf084dfe83489acaa7dfa4e7	282	283.3476168443273	390	\N	\N	\N	\N	0.0035335689045936395	\N	\N
584	run_9fe7c00daf084dfe83489acaa7dfa4e7	283	276.3925990291256	390	\N	\N	\N	\N	0.0035211267605633804	\N	\N
585	run_9fe7c00daf084dfe83489acaa7dfa4e7	284	294.97192419448936	390	\N	\N	\N	\N	0.0035087719298245615	\N	\N
586	run_9fe7c00daf084dfe83489acaa7dfa4e7	285	282.61606523437405	390	\N	\N	\N	\N	0.0034965034965034965	\N	\N
587	run_9fe7c00daf084dfe83489acaa7dfa4e7	286	282.61032669970916	390	\N	\N	\N	\N	0.003484320557491289	\N	\N
588	run_9fe7c00daf084dfe83489acaa7dfa4e7	287	279.47582100227714	390	\N	\N	\N	\N	0.003472222222222222	\N	\N
589	run_9fe7c00daf084dfe83489acaa7dfa4e7	288	291.295259709698	390	\N	\N	\N	\N	0.0034602076124567475	\N	\N
590	run_9fe7c00daf084dfe83489acaa7dfa4e7	289	290.42388510764664	390	\N	\N	\N	\N	0.0034482758620689655	\N	\N
591	run_9fe7c00daf084dfe83489acaa7dfa4e7	290	285.1640694243951	390	\N	\N	\N	\N	0.003436426116838488	\N	\N
592	run_9fe7c00daf084dfe83489acaa7dfa4e7	291	276.9970324795798	390	\N	\N	\N	\N	0.003424657534246575	\N	\N
593	run_9fe7c00daf084dfe83489acaa7dfa4e7	292	281.4875370652669	390	\N	\N	\N	\N	0.0034129692832764505	\N	\N
594	run_9fe7c00daf084dfe83489acaa7dfa4e7	293	287.2584824174854	390	\N	\N	\N	\N	0.003401360544217687	\N	\N
595	run_9fe7c00daf084dfe83489acaa7dfa4e7	294	281.7884434445733	390	\N	\N	\N	\N	0.003389830508474576	\N	\N
596	run_9fe7c00daf084dfe83489acaa7dfa4e7	295	278.597448516933	390	\N	\N	\N	\N	0.0033783783783783786	\N	\N
597	run_9fe7c00daf084dfe83489acaa7dfa4e7	296	278.7486096276541	390	\N	\N	\N	\N	0.003367003367003367	\N	\N
598	run_9fe7c00daf084dfe83489acaa7dfa4e7	297	280.9980473950202	390	\N	\N	\N	\N	0.003355704697986577	\N	\N
599	run_9fe7c00daf084dfe83489acaa7dfa4e7	298	285.0904509420846	390	\N	\N	\N	\N	0.0033444816053511705	\N	\N
600	run_9fe7c00daf084dfe83489acaa7dfa4e7	299	281.945668852409	390	\N	\N	\N	\N	0.0033333333333333335	\N	\N
\.


--
-- Data for Name: training_runs; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.training_runs (run_id, algorithm, model_name, start_time, end_time, duration_seconds, total_timesteps, train_start_date, train_end_date, val_start_date, val_end_date, status, final_reward, best_reward, convergence_achieved, model_path, tensorboard_log_dir, random_seed, device, error_message, metadata, created_at, updated_at) FROM stdin;
run_26c1f61b9d9c4f28a462b511f4449831	PPO	demo_ppo_frozen	2026-11-09 02:00:00+00	2026-11-09 04:00:00+00	7200	200000	2024-01-01	2025-12-31	\N	\N	completed	279.01093051735614	290.14666882929305	f	\N	\N	42	cpu	\N	\N	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
run_9fe7c00daf084dfe83489acaa7dfa4e7	SAC	demo_sac_frozen	2026-11-09 02:00:00+00	2026-11-09 04:00:00+00	7200	200000	2024-01-01	2025-12-31	\N	\N	completed	281.945668852409	294.97192419448936	f	\N	\N	42	cpu	\N	\N	2026-11-13 22:00:00+00	2026-11-13 22:00:00+00
\.


--
-- Name: agent_performance_performance_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.agent_performance_performance_id_seq', 4, true);


--
-- Name: closed_positions_closed_position_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.closed_positions_closed_position_id_seq', 5, true);


--
-- Name: ensemble_weights_weight_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.ensemble_weights_weight_id_seq', 4, true);


--
-- Name: hyperparameters_hyperparameter_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.hyperparameters_hyperparameter_id_seq', 2, true);


--
-- Name: migration_history_history_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.migration_history_history_id_seq', 4, true);


--
-- Name: performance_metrics_metric_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.performance_metrics_metric_id_seq', 10, true);


--
-- Name: portfolio_snapshots_snapshot_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.portfolio_snapshots_snapshot_id_seq', 10, true);


--
-- Name: training_episodes_episode_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.training_episodes_episode_id_seq', 600, true);


--
-- Name: agent_performance pk_agent_performance; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_performance
    ADD CONSTRAINT pk_agent_performance PRIMARY KEY (performance_id);


--
-- Name: bots pk_bots; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.bots
    ADD CONSTRAINT pk_bots PRIMARY KEY (bot_id);


--
-- Name: closed_positions pk_closed_positions; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.closed_positions
    ADD CONSTRAINT pk_closed_positions PRIMARY KEY (closed_position_id);


--
-- Name: ensemble_weights pk_ensemble_weights; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ensemble_weights
    ADD CONSTRAINT pk_ensemble_weights PRIMARY KEY (weight_id);


--
-- Name: fills pk_fills; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.fills
    ADD CONSTRAINT pk_fills PRIMARY KEY (bot_id, fill_id);


--
-- Name: hyperparameters pk_hyperparameters; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.hyperparameters
    ADD CONSTRAINT pk_hyperparameters PRIMARY KEY (hyperparameter_id);


--
-- Name: migration_history pk_migration_history; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.migration_history
    ADD CONSTRAINT pk_migration_history PRIMARY KEY (history_id);


--
-- Name: orders pk_orders; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT pk_orders PRIMARY KEY (order_id);


--
-- Name: performance_metrics pk_performance_metrics; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.performance_metrics
    ADD CONSTRAINT pk_performance_metrics PRIMARY KEY (metric_id);


--
-- Name: portfolio_snapshots pk_portfolio_snapshots; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.portfolio_snapshots
    ADD CONSTRAINT pk_portfolio_snapshots PRIMARY KEY (snapshot_id);


--
-- Name: positions pk_positions; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.positions
    ADD CONSTRAINT pk_positions PRIMARY KEY (position_id);


--
-- Name: training_episodes pk_training_episodes; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.training_episodes
    ADD CONSTRAINT pk_training_episodes PRIMARY KEY (episode_id);


--
-- Name: training_runs pk_training_runs; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.training_runs
    ADD CONSTRAINT pk_training_runs PRIMARY KEY (run_id);


--
-- Name: tradestore_alembic_version tradestore_alembic_version_pkc; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tradestore_alembic_version
    ADD CONSTRAINT tradestore_alembic_version_pkc PRIMARY KEY (version_num);


--
-- Name: idx_agent_performance_evaluation_date; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_agent_performance_evaluation_date ON public.agent_performance USING btree (evaluation_date);


--
-- Name: idx_agent_performance_evaluation_type; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_agent_performance_evaluation_type ON public.agent_performance USING btree (evaluation_type);


--
-- Name: idx_agent_performance_run_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_agent_performance_run_id ON public.agent_performance USING btree (run_id);


--
-- Name: idx_agent_performance_sharpe; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_agent_performance_sharpe ON public.agent_performance USING btree (sharpe_ratio);


--
-- Name: idx_bots_status_heartbeat; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_bots_status_heartbeat ON public.bots USING btree (status, last_heartbeat);


--
-- Name: idx_closed_positions_bot_closed_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_closed_positions_bot_closed_at ON public.closed_positions USING btree (bot_id, closed_at);


--
-- Name: idx_closed_positions_bot_exit_reason; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_closed_positions_bot_exit_reason ON public.closed_positions USING btree (bot_id, exit_reason, holding_period_hours);


--
-- Name: idx_closed_positions_bot_realized_pnl; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_closed_positions_bot_realized_pnl ON public.closed_positions USING btree (bot_id, realized_pnl);


--
-- Name: idx_closed_positions_closed_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_closed_positions_closed_at ON public.closed_positions USING btree (closed_at);


--
-- Name: idx_closed_positions_exit_reason; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_closed_positions_exit_reason ON public.closed_positions USING btree (exit_reason);


--
-- Name: idx_closed_positions_holding_period; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_closed_positions_holding_period ON public.closed_positions USING btree (holding_period_hours);


--
-- Name: idx_closed_positions_opened_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_closed_positions_opened_at ON public.closed_positions USING btree (opened_at);


--
-- Name: idx_closed_positions_position_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_closed_positions_position_id ON public.closed_positions USING btree (position_id);


--
-- Name: idx_closed_positions_realized_pnl; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_closed_positions_realized_pnl ON public.closed_positions USING btree (realized_pnl);


--
-- Name: idx_closed_positions_strategy; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_closed_positions_strategy ON public.closed_positions USING btree (strategy);


--
-- Name: idx_closed_positions_ticker; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_closed_positions_ticker ON public.closed_positions USING btree (ticker);


--
-- Name: idx_closed_positions_ticker_side; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_closed_positions_ticker_side ON public.closed_positions USING btree (ticker, side);


--
-- Name: idx_ensemble_weights_ensemble_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_ensemble_weights_ensemble_time ON public.ensemble_weights USING btree (ensemble_id, update_time);


--
-- Name: idx_ensemble_weights_run_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_ensemble_weights_run_id ON public.ensemble_weights USING btree (run_id);


--
-- Name: idx_ensemble_weights_version_run; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX idx_ensemble_weights_version_run ON public.ensemble_weights USING btree (ensemble_id, version, run_id);


--
-- Name: idx_fills_filled_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_fills_filled_at ON public.fills USING btree (filled_at);


--
-- Name: idx_fills_order_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_fills_order_id ON public.fills USING btree (order_id);


--
-- Name: idx_fills_position_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_fills_position_id ON public.fills USING btree (position_id);


--
-- Name: idx_fills_ticker_filled_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_fills_ticker_filled_at ON public.fills USING btree (ticker, filled_at);


--
-- Name: idx_hyperparameters_algorithm; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_hyperparameters_algorithm ON public.hyperparameters USING btree (algorithm);


--
-- Name: idx_hyperparameters_run_id; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX idx_hyperparameters_run_id ON public.hyperparameters USING btree (run_id);


--
-- Name: idx_migration_history_applied_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_migration_history_applied_at ON public.migration_history USING btree (applied_at);


--
-- Name: idx_orders_bot_order_type_slippage; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_orders_bot_order_type_slippage ON public.orders USING btree (bot_id, order_type, slippage);


--
-- Name: idx_orders_bot_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_orders_bot_status ON public.orders USING btree (bot_id, status);


--
-- Name: idx_orders_bot_submitted_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_orders_bot_submitted_at ON public.orders USING btree (bot_id, submitted_at, status);


--
-- Name: idx_orders_bot_ticker_submitted_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_orders_bot_ticker_submitted_at ON public.orders USING btree (bot_id, ticker, submitted_at);


--
-- Name: idx_orders_client_order_id; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX idx_orders_client_order_id ON public.orders USING btree (bot_id, client_order_id);


--
-- Name: idx_orders_filled_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_orders_filled_at ON public.orders USING btree (filled_at);


--
-- Name: idx_orders_position_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_orders_position_id ON public.orders USING btree (position_id);


--
-- Name: idx_orders_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_orders_status ON public.orders USING btree (status);


--
-- Name: idx_orders_strategy; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_orders_strategy ON public.orders USING btree (strategy);


--
-- Name: idx_orders_submitted_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_orders_submitted_at ON public.orders USING btree (submitted_at);


--
-- Name: idx_orders_ticker; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_orders_ticker ON public.orders USING btree (ticker);


--
-- Name: idx_orders_trade_date; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_orders_trade_date ON public.orders USING btree ((((submitted_at AT TIME ZONE 'UTC'::text))::date));


--
-- Name: idx_performance_metrics_bot_date_strategy; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX idx_performance_metrics_bot_date_strategy ON public.performance_metrics USING btree (bot_id, metric_date, strategy);


--
-- Name: idx_performance_metrics_date; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_performance_metrics_date ON public.performance_metrics USING btree (metric_date);


--
-- Name: idx_performance_metrics_strategy; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_performance_metrics_strategy ON public.performance_metrics USING btree (strategy);


--
-- Name: idx_portfolio_snapshots_bot_date; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX idx_portfolio_snapshots_bot_date ON public.portfolio_snapshots USING btree (bot_id, snapshot_date);


--
-- Name: idx_portfolio_snapshots_date; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_portfolio_snapshots_date ON public.portfolio_snapshots USING btree (snapshot_date);


--
-- Name: idx_portfolio_snapshots_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_portfolio_snapshots_time ON public.portfolio_snapshots USING btree (snapshot_time);


--
-- Name: idx_positions_bot_ticker; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_positions_bot_ticker ON public.positions USING btree (bot_id, ticker);


--
-- Name: idx_positions_opened_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_positions_opened_at ON public.positions USING btree (opened_at);


--
-- Name: idx_positions_strategy; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_positions_strategy ON public.positions USING btree (strategy);


--
-- Name: idx_positions_ticker; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_positions_ticker ON public.positions USING btree (ticker);


--
-- Name: idx_positions_ticker_side; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_positions_ticker_side ON public.positions USING btree (ticker, side);


--
-- Name: idx_positions_unrealized_pnl; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_positions_unrealized_pnl ON public.positions USING btree (unrealized_pnl);


--
-- Name: idx_training_episodes_run_episode; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX idx_training_episodes_run_episode ON public.training_episodes USING btree (run_id, episode_number);


--
-- Name: idx_training_runs_algorithm; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_training_runs_algorithm ON public.training_runs USING btree (algorithm);


--
-- Name: idx_training_runs_model_name; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_training_runs_model_name ON public.training_runs USING btree (model_name);


--
-- Name: idx_training_runs_start_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_training_runs_start_time ON public.training_runs USING btree (start_time);


--
-- Name: idx_training_runs_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_training_runs_status ON public.training_runs USING btree (status);


--
-- Name: agent_performance fk_agent_performance_run_id_training_runs; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_performance
    ADD CONSTRAINT fk_agent_performance_run_id_training_runs FOREIGN KEY (run_id) REFERENCES public.training_runs(run_id) ON DELETE CASCADE;


--
-- Name: closed_positions fk_closed_positions_bot_id_bots; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.closed_positions
    ADD CONSTRAINT fk_closed_positions_bot_id_bots FOREIGN KEY (bot_id) REFERENCES public.bots(bot_id) ON DELETE RESTRICT;


--
-- Name: ensemble_weights fk_ensemble_weights_run_id_training_runs; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ensemble_weights
    ADD CONSTRAINT fk_ensemble_weights_run_id_training_runs FOREIGN KEY (run_id) REFERENCES public.training_runs(run_id) ON DELETE CASCADE;


--
-- Name: fills fk_fills_bot_id_bots; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.fills
    ADD CONSTRAINT fk_fills_bot_id_bots FOREIGN KEY (bot_id) REFERENCES public.bots(bot_id) ON DELETE RESTRICT;


--
-- Name: fills fk_fills_order_id_orders; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.fills
    ADD CONSTRAINT fk_fills_order_id_orders FOREIGN KEY (order_id) REFERENCES public.orders(order_id) ON DELETE CASCADE;


--
-- Name: hyperparameters fk_hyperparameters_run_id_training_runs; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.hyperparameters
    ADD CONSTRAINT fk_hyperparameters_run_id_training_runs FOREIGN KEY (run_id) REFERENCES public.training_runs(run_id) ON DELETE CASCADE;


--
-- Name: orders fk_orders_bot_id_bots; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT fk_orders_bot_id_bots FOREIGN KEY (bot_id) REFERENCES public.bots(bot_id) ON DELETE RESTRICT;


--
-- Name: performance_metrics fk_performance_metrics_bot_id_bots; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.performance_metrics
    ADD CONSTRAINT fk_performance_metrics_bot_id_bots FOREIGN KEY (bot_id) REFERENCES public.bots(bot_id) ON DELETE RESTRICT;


--
-- Name: portfolio_snapshots fk_portfolio_snapshots_bot_id_bots; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.portfolio_snapshots
    ADD CONSTRAINT fk_portfolio_snapshots_bot_id_bots FOREIGN KEY (bot_id) REFERENCES public.bots(bot_id) ON DELETE RESTRICT;


--
-- Name: positions fk_positions_bot_id_bots; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.positions
    ADD CONSTRAINT fk_positions_bot_id_bots FOREIGN KEY (bot_id) REFERENCES public.bots(bot_id) ON DELETE RESTRICT;


--
-- Name: training_episodes fk_training_episodes_run_id_training_runs; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.training_episodes
    ADD CONSTRAINT fk_training_episodes_run_id_training_runs FOREIGN KEY (run_id) REFERENCES public.training_runs(run_id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--

\unrestrict tradestorefrozen

