<?php
/**
 * The plugin's API key pair (network options `wpbridge_api_key` / `wpbridge_api_secret`), managed without a shell
 * script of our own: `wp wpbridge key set|rotate|show-fingerprint` (WP-CLI, registered only when WP_CLI is
 * defined), the same three actions through WordPress's own bootstrap with `php tools/key.php DOCROOT ...` (where
 * WP-CLI is not installed), and the Network Admin screen Settings → wpbridge. In UM mode Ultimate Multisite's own
 * pair (UM → Settings → API) opens the API too, so a UM network needs no pair of the plugin's.
 *
 * The secret is never printed except once, by `rotate`, when it was just generated; otherwise only its
 * fingerprint (`sha256:` and the first 16 hex digits of its SHA-256), which `wpbridge check` can be compared with.
 *
 * @package WPBridge
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const KEY_MIN_LENGTH    = 16;
const SECRET_MIN_LENGTH = 24;

/** `sha256:` and the first 16 hex digits of the secret's SHA-256 ('' for no secret). */
function secret_fingerprint( string $secret ): string {
	return '' === $secret ? '' : 'sha256:' . substr( hash( 'sha256', $secret ), 0, 16 );
}

/** Why `$value` cannot be a key or secret (null: it can): long enough, printable ASCII without spaces; no `:` in a key (HTTP Basic splits there). */
function key_refusal( string $what, string $value, int $min ): ?string {
	if ( strlen( $value ) < $min ) {
		/* translators: 1: "key" or "secret", 2: a number of characters. */
		return sprintf( __( 'the %1$s must be at least %2$d characters', 'wpbridge-stub' ), $what, $min );
	}
	if ( ! preg_match( '/^[\x21-\x7e]+$/', $value ) ) {
		/* translators: %s: "key" or "secret". */
		return sprintf( __( 'the %s may hold printable ASCII characters only (no spaces)', 'wpbridge-stub' ), $what );
	}
	if ( 'key' === $what && str_contains( $value, ':' ) ) {
		return __( 'the key may not contain ":" (HTTP Basic auth splits the user name there)', 'wpbridge-stub' );
	}
	return null;
}

/** Store a key pair given by the network's owner; a WP_Error naming the refused field stores nothing. */
function key_set( string $key, string $secret ): true|\WP_Error {
	$refusal = key_refusal( 'key', $key, KEY_MIN_LENGTH ) ?? key_refusal( 'secret', $secret, SECRET_MIN_LENGTH );
	if ( null !== $refusal ) {
		return new \WP_Error( 'wpbridge_bad_key', $refusal );
	}
	update_site_option( 'wpbridge_api_key', $key );
	update_site_option( 'wpbridge_api_secret', $secret );
	return true;
}

/** A new random key pair, stored at once (the old pair stops working); returns it: the only time the secret is shown. */
function key_rotate(): array {
	$key    = wp_generate_password( 32, false, false );
	$secret = wp_generate_password( 40, false, false );
	key_set( $key, $secret );
	return array(
		'key'         => $key,
		'secret'      => $secret,
		'fingerprint' => secret_fingerprint( $secret ),
	);
}

/** What is configured, without the secret: the key, the secret's fingerprint, the mode and UM's pair (set or not). */
function key_status(): array {
	$key      = (string) get_site_option( 'wpbridge_api_key', '' );
	$secret   = (string) get_site_option( 'wpbridge_api_secret', '' );
	$um_pairs = array_filter(
		flavor()->credential_pairs(),
		function ( array $pair ): bool {
			return '' !== $pair[0] && '' !== $pair[1];
		}
	);
	return array(
		'key'         => $key,
		'fingerprint' => secret_fingerprint( $secret ),
		'set'         => '' !== $key && '' !== $secret,
		'mode'        => flavor()->name,
		'um_key_set'  => array() !== $um_pairs,
	);
}

// ------------------------------------------------------------------------------------------------ WP-CLI

/**
 * Manage the API key pair wpbridge authenticates with.
 *
 * ## EXAMPLES
 *
 *     wp wpbridge key rotate
 *     echo "$SECRET" | wp wpbridge key set --key=my-network-key
 *     wp wpbridge key show-fingerprint
 */
final class Key_CLI_Command {

	/**
	 * Store a key pair you chose. The secret is read from standard input (one line) unless --secret is given:
	 * a secret on the command line ends up in the shell's history and the process list.
	 *
	 * ## OPTIONS
	 *
	 * --key=<key>
	 * : The API key (at least 16 printable characters, no ":").
	 *
	 * [--secret=<secret>]
	 * : The API secret (at least 24 printable characters). Default: read from standard input.
	 *
	 * @param array $args       Positional arguments (none).
	 * @param array $assoc_args --key, --secret.
	 */
	public function set( array $args, array $assoc_args ): void {
		$secret = $assoc_args['secret'] ?? rtrim( (string) fgets( STDIN ), "\r\n" );
		$done   = key_set( (string) ( $assoc_args['key'] ?? '' ), (string) $secret );
		if ( is_wp_error( $done ) ) {
			\WP_CLI::error( $done->get_error_message() );
			return;
		}
		\WP_CLI::success( 'API key pair stored; secret fingerprint ' . secret_fingerprint( (string) $secret ) );
	}

	/**
	 * Generate a new random key pair and store it at once: the old pair stops working now. Prints the key and the
	 * secret, the only time the secret is shown: put them in wpbridge's config (api_key, api_secret_command).
	 *
	 * @param array $args       Positional arguments (none).
	 * @param array $assoc_args None.
	 */
	public function rotate( array $args, array $assoc_args ): void {
		$pair = key_rotate();
		\WP_CLI::line( 'api_key:     ' . $pair['key'] );
		\WP_CLI::line( 'api_secret:  ' . $pair['secret'] );
		\WP_CLI::success( 'new API key pair stored (the secret is not shown again); fingerprint ' . $pair['fingerprint'] );
	}

	/**
	 * Show the key and the secret's fingerprint (never the secret), and whether Ultimate Multisite's own pair is set.
	 *
	 * @subcommand show-fingerprint
	 *
	 * @param array $args       Positional arguments (none).
	 * @param array $assoc_args None.
	 */
	public function show_fingerprint( array $args, array $assoc_args ): void {
		$status = key_status();
		\WP_CLI::line( 'mode:         ' . $status['mode'] );
		\WP_CLI::line( 'api_key:      ' . ( $status['set'] ? $status['key'] : '(not set)' ) );
		\WP_CLI::line( 'fingerprint:  ' . ( $status['set'] ? $status['fingerprint'] : '-' ) );
		if ( 'um' === $status['mode'] ) {
			\WP_CLI::line( "UM's API pair: " . ( $status['um_key_set'] ? 'set (it opens wpbridge too)' : 'not set' ) );
		}
	}
}

if ( defined( 'WP_CLI' ) && WP_CLI ) {
	\WP_CLI::add_command( 'wpbridge key', Key_CLI_Command::class );
}

// ------------------------------------------------------------------------------------------------ Network Admin

const KEYS_PAGE   = 'wpbridge';
const KEYS_ACTION = 'wpbridge_keys';

/** Network Admin → Settings → wpbridge, for those who may manage the network's options. */
function keys_screen_hooks(): void {
	add_action(
		'network_admin_menu',
		function () {
			add_submenu_page( 'settings.php', 'wpbridge', 'wpbridge', 'manage_network_options', KEYS_PAGE, __NAMESPACE__ . '\\render_keys_screen' );
		}
	);
	add_action( 'network_admin_edit_' . KEYS_ACTION, __NAMESPACE__ . '\\keys_screen_post' );
}

/**
 * A form post of the screen (nonce and capability checked first): `rotate`, or `set` with `api_key`/`api_secret`.
 * Returns what to show: `rotated` (the new pair, shown once), `saved`, or an `error` message.
 */
function keys_screen_action( array $post ): array {
	if ( ! current_user_can( 'manage_network_options' ) ) {
		return array( 'error' => __( 'Sorry, you are not allowed to manage the API key pair.', 'wpbridge-stub' ) );
	}
	$nonce = isset( $post['_wpnonce'] ) ? sanitize_text_field( wp_unslash( (string) $post['_wpnonce'] ) ) : '';
	if ( ! wp_verify_nonce( $nonce, KEYS_ACTION ) ) {
		return array( 'error' => __( 'The form expired; reload the page and try again.', 'wpbridge-stub' ) );
	}
	$do = (string) ( $post['do'] ?? '' );
	if ( 'rotate' === $do ) {
		return array( 'rotated' => key_rotate() );
	}
	if ( 'set' === $do ) {
		$done = key_set( trim( wp_unslash( (string) ( $post['api_key'] ?? '' ) ) ), trim( wp_unslash( (string) ( $post['api_secret'] ?? '' ) ) ) );
		return is_wp_error( $done ) ? array( 'error' => $done->get_error_message() ) : array( 'saved' => true );
	}
	return array( 'error' => __( 'Unknown action.', 'wpbridge-stub' ) );
}

/** The post handler: act, keep what to show for this user for a minute (never the secret in a URL), go back. */
function keys_screen_post(): void {
	$shown = keys_screen_action( $_POST ); // phpcs:ignore WordPress.Security.NonceVerification.Missing -- verified in keys_screen_action().
	set_site_transient( 'wpbridge_keys_shown_' . get_current_user_id(), $shown, MINUTE_IN_SECONDS );
	wp_safe_redirect( network_admin_url( 'settings.php?page=' . KEYS_PAGE ) );
	exit;
}

/** The screen: the mode, the key and fingerprint, UM's pair in UM mode, and the two forms. */
function render_keys_screen(): void {
	if ( ! current_user_can( 'manage_network_options' ) ) {
		return;
	}
	$transient = 'wpbridge_keys_shown_' . get_current_user_id();
	$shown     = get_site_transient( $transient );
	delete_site_transient( $transient ); // A new secret is shown once.
	echo keys_screen_html( key_status(), is_array( $shown ) ? $shown : array() ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped in keys_screen_html().
}

/** The screen's HTML (every value escaped). */
function keys_screen_html( array $status, array $shown ): string {
	$out = '<div class="wrap"><h1>wpbridge</h1>';
	if ( isset( $shown['error'] ) ) {
		$out .= '<div class="notice notice-error"><p>' . esc_html( $shown['error'] ) . '</p></div>';
	} elseif ( isset( $shown['rotated'] ) ) {
		$out .= '<div class="notice notice-success"><p>' . esc_html__( 'New API key pair stored; the old one no longer works. Copy the secret now: it is not shown again.', 'wpbridge-stub' ) . '</p>'
			. '<p><code>api_key = "' . esc_html( $shown['rotated']['key'] ) . '"</code><br><code>api_secret = "' . esc_html( $shown['rotated']['secret'] ) . '"</code></p></div>';
	} elseif ( isset( $shown['saved'] ) ) {
		$out .= '<div class="notice notice-success"><p>' . esc_html__( 'API key pair stored.', 'wpbridge-stub' ) . '</p></div>';
	}
	$out .= '<table class="form-table"><tr><th>' . esc_html__( 'Mode', 'wpbridge-stub' ) . '</th><td>'
		. esc_html( 'um' === $status['mode'] ? __( 'beside Ultimate Multisite (UM mode)', 'wpbridge-stub' ) : __( 'without Ultimate Multisite (stub mode)', 'wpbridge-stub' ) ) . '</td></tr>'
		. '<tr><th>' . esc_html__( 'API key', 'wpbridge-stub' ) . '</th><td><code>' . esc_html( $status['set'] ? $status['key'] : __( '(not set)', 'wpbridge-stub' ) ) . '</code></td></tr>'
		. '<tr><th>' . esc_html__( 'Secret fingerprint', 'wpbridge-stub' ) . '</th><td><code>' . esc_html( $status['set'] ? $status['fingerprint'] : '-' ) . '</code></td></tr>';
	if ( 'um' === $status['mode'] ) {
		$out .= '<tr><th>' . esc_html__( "Ultimate Multisite's API pair", 'wpbridge-stub' ) . '</th><td>'
			. esc_html( $status['um_key_set'] ? __( 'set: it opens wpbridge too (Ultimate Multisite → Settings → API)', 'wpbridge-stub' ) : __( 'not set (Ultimate Multisite → Settings → API)', 'wpbridge-stub' ) ) . '</td></tr>';
	}
	$action = esc_url( network_admin_url( 'edit.php?action=' . KEYS_ACTION ) );
	$nonce  = wp_nonce_field( KEYS_ACTION, '_wpnonce', true, false );
	$out   .= '</table>'
		. '<form method="post" action="' . $action . '">' . $nonce . '<input type="hidden" name="do" value="rotate">'
		. '<p><button type="submit" class="button button-primary">' . esc_html__( 'Generate a new key pair', 'wpbridge-stub' ) . '</button></p></form>'
		. '<h2>' . esc_html__( 'Set a key pair', 'wpbridge-stub' ) . '</h2>'
		. '<form method="post" action="' . $action . '">' . $nonce . '<input type="hidden" name="do" value="set">'
		. '<p><label>' . esc_html__( 'API key', 'wpbridge-stub' ) . ' <input type="text" name="api_key" autocomplete="off"></label></p>'
		. '<p><label>' . esc_html__( 'API secret', 'wpbridge-stub' ) . ' <input type="password" name="api_secret" autocomplete="new-password"></label></p>'
		. '<p><button type="submit" class="button">' . esc_html__( 'Save', 'wpbridge-stub' ) . '</button></p></form></div>';
	return $out;
}
