<?php
/**
 * UM mode's stores (stores.php): Ultimate Multisite is the system of record. They read UM's own tables and meta
 * (um.php, um-sites.php) and write through UM's own models and functions (um-swap.php, import.php's UM writers,
 * payments.php's UM_Payment_Store). plugin-stub stores no quota and enforces nothing in UM mode.
 *
 * @package WPBridge
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/** UM mode: UM serves `wu/v2` and enforces limits; the companion routes read and write through UM. */
final class UM_Flavor extends Flavor {

	public function __construct() {
		$sites = new UM_Site_Store();
		parent::__construct(
			'um',
			new UM_Catalog_Store(),
			$sites,
			new UM_Limits_Store( $sites ),
			new UM_Schedule_Store(),
			new UM_Membership_Store(),
			new UM_Import_Store(),
			new UM_Payment_Store()
		);
	}

	public function serves_wu_v2(): bool {
		return false;
	}

	/** UM's own API pair (settings `api_key` / `api_secret`): one pair opens `wu/v2` and `wpbridge/v1` alike. */
	public function credential_pairs(): array {
		if ( ! function_exists( 'wu_get_setting' ) ) {
			return array();
		}
		return array( array( (string) wu_get_setting( 'api_key', '' ), (string) wu_get_setting( 'api_secret', '' ) ) );
	}

	public function um_version(): string {
		return class_exists( 'WP_Ultimo' ) ? \WP_Ultimo::VERSION : parent::um_version();
	}
}

final class UM_Catalog_Store implements Catalog_Store {

	public function catalog(): array {
		return um_catalog();
	}
}

/** UM's links in blogmeta (`wu_membership_id`, `wu_customer_id`, `wu_type`, `wu_limitations`), read in one pass. */
final class UM_Site_Store implements Site_Store {

	public function sql(): string {
		global $wpdb;
		$main  = (int) get_main_site_id();
		$pivot = $wpdb->prepare(
			// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the blogmeta table quoted by ident().
			'SELECT blog_id,
				MAX(IF(meta_key = %s, meta_value, NULL)) AS membership_id,
				MAX(IF(meta_key = %s, meta_value, NULL)) AS customer_id,
				MAX(IF(meta_key = %s, meta_value, NULL)) AS type,
				MAX(IF(meta_key = %s, meta_value, NULL)) AS limitations,
				MAX(IF(meta_key = %s, meta_value, NULL)) AS suspended
			FROM ' . ident( $wpdb->blogmeta ) . ' WHERE meta_key IN (%s, %s, %s, %s, %s) GROUP BY blog_id',
			array_merge( UM_LINK_KEYS, UM_LINK_KEYS )
		);
		return $wpdb->prepare(
			// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the pivot is prepared above; table names quoted by ident().
			"(SELECT b.blog_id, b.domain, b.path, b.registered, b.last_updated, b.public, b.archived, b.spam, b.deleted,
				CAST(COALESCE(m.membership_id, '0') AS UNSIGNED) AS membership_id,
				CAST(COALESCE(m.customer_id, '0') AS UNSIGNED) AS customer_id,
				NULLIF(m.type, '') AS type, IF(b.blog_id = %d, 1, 0) AS is_main, m.limitations,
				IF(COALESCE(m.suspended, '') IN ('', '0'), 0, 1) AS suspended, p.membership_id AS pending_membership_id
			FROM " . ident( $wpdb->blogs ) . " b LEFT JOIN ($pivot) m ON m.blog_id = b.blog_id " . pending_site_join() . '
			WHERE b.site_id = %d) s',
			$main,
			get_current_network_id()
		);
	}

	/** UM stores a serialized array or Limitations object, some modules as JSON strings (um_value()). */
	public function override( ?string $raw ): ?array {
		if ( null === $raw ) {
			return null;
		}
		$v = um_value( maybe_unserialize( $raw ) );
		return is_array( $v ) ? $v : null;
	}

	public function custom_domain_counts( array $blog_ids ): array {
		return um_custom_domain_counts( $blog_ids );
	}
}

/** What UM computes for each site; writes refused (UM computes limits: change the membership); suspension. */
final class UM_Limits_Store implements Limits_Store, Suspension_Store {

	public function __construct( private Site_Store $sites ) {
	}

	public function limits( array $blog_ids ): array {
		return um_computed_limits( $this->sites, $blog_ids );
	}

	public function put( int $blog_id, array $limitations ): object {
		return um_quota_write_refused( $blog_id );
	}

	public function delete( int $blog_id ): array|\WP_Error {
		return um_quota_write_refused( $blog_id );
	}

	public function hooks(): void {
		// UM computes and enforces every limit itself; plugin-stub enforces nothing in UM mode.
	}

	public function suspend( int $blog_id, bool $suspended, mixed $limitations ): array|\WP_Error {
		return um_suspend( $this->sites, $blog_id, $suspended, $limitations );
	}
}

/** UM's scheduled swap (membership meta `wu_swap_order`, `wu_swap_scheduled_date`), written by UM's own Cart. */
final class UM_Schedule_Store implements Schedule_Store, Swap_Applier {

	public function list( ?string $due_before, ?int $membership_id, int $limit, int $offset ): array {
		return um_list_swaps( $due_before, $membership_id, $limit, $offset );
	}

	public function get( int $membership_id ): array|\WP_Error {
		return um_get_swap( $membership_id );
	}

	public function put( int $membership_id, \DateTimeImmutable $when, array $target, mixed $note, bool $force = false ): array|\WP_Error {
		return um_put_swap( $membership_id, $when, $target, $force );
	}

	public function delete( int $membership_id ): array {
		return um_delete_swap( $membership_id );
	}

	public function apply( int $membership_id ): array|\WP_Error {
		return um_apply_swap( $membership_id );
	}
}

final class UM_Membership_Store implements Membership_Store {

	public function exists( int $id ): bool {
		return um_membership_exists( $id );
	}

	public function own_limitations( array $ids ): array {
		return um_membership_limitations( $ids );
	}
}

/**
 * Imports through UM's own functions and models (`wu_create_customer`, `wu_create_membership`, `wu_create_product`,
 * the setters): UM's REST refuses a membership `status` and a non-integer product `amount`, and does not link sites.
 */
final class UM_Import_Store implements Import_Store {

	public function table_of( string $entity ): string {
		return um_table( $entity );
	}

	/**
	 * UM's meta `wu_billing_address` (a serialized Billing_Address; import_billing_address_in() reads it) and its
	 * meta `ip_country` (the tax country of a customer without a billing country), read into the address as the
	 * stub keeps it.
	 */
	public function billing_address_sql(): string {
		$meta = fn( string $key ) => '(SELECT meta_value FROM ' . ident( um_table( 'customermeta' ) ) . " WHERE wu_customer_id = c.id AND meta_key = '$key' ORDER BY meta_id DESC LIMIT 1)";
		return $meta( 'wu_billing_address' ) . ' AS billing_address, ' . $meta( 'ip_country' ) . ' AS ip_country';
	}

	/**
	 * UM's own answer, `Customer::has_trialed()` without its write: the column, else the meta `wu_has_trialed`, else
	 * a membership of the customer with a trial end (UM sets the column only through set_has_trialed(), which
	 * nothing in UM's checkout calls; has_trialed() records a trial in the meta). NULL when the column is NULL and
	 * nothing says the customer trialed.
	 */
	/**
	 * `Billing_Address::fields()` (its filter `wu_billing_address_fields` lets an add-on, a VAT one say, add lines;
	 * any other key is dropped by the address) and `ip_country`, which UM keeps in its own customer meta.
	 */
	public function billing_address_keys(): ?array {
		try {
			$keys = array_keys( \WP_Ultimo\Objects\Billing_Address::fields() );
		} catch ( \Throwable $e ) {
			$keys = array( 'company_name', 'billing_email', 'billing_address_line_1', 'billing_address_line_2', 'billing_country', 'billing_state', 'billing_city', 'billing_zip_code' );
		}
		return array_values( array_unique( array_merge( array_map( 'strval', $keys ), array( 'ip_country' ) ) ) );
	}

	public function has_trialed_sql(): string {
		$meta = ident( um_table( 'customermeta' ) );
		$mem  = ident( um_table( 'memberships' ) );
		return "(CASE WHEN c.has_trialed = 1 OR EXISTS (SELECT 1 FROM $meta hm WHERE hm.wu_customer_id = c.id AND hm.meta_key = 'wu_has_trialed' AND hm.meta_value NOT IN ('', '0', 'b:0;')) OR EXISTS (SELECT 1 FROM $mem tm WHERE tm.customer_id = c.id AND tm.date_trial_end IS NOT NULL AND tm.date_trial_end <> '0000-00-00 00:00:00') THEN 1 ELSE c.has_trialed END) AS has_trialed";
	}

	public function create_customer( string $email, ?string $username, ?\WP_User $user, array $fields ): int|\WP_Error {
		return import_um_create_customer( $email, $username, $user, $fields );
	}

	public function update_customer( int $id, array $body ): ?\WP_Error {
		return import_um_update_customer( $id, $body );
	}

	public function create_membership( array $body ): int|\WP_Error {
		return import_um_create_membership( $body );
	}

	public function update_membership( int $id, array $body ): mixed {
		return import_um_update_membership( $id, $body );
	}

	public function link_site( int $blog_id, array $body ): void {
		import_um_save_link( $blog_id, import_um_link_args( $body ) );
	}

	public function create_site( string $domain, string $path, array $body ): int|\WP_Error {
		return import_um_create_site( $domain, $path, $body );
	}

	public function update_site( int $blog_id, array $body ): ?\WP_Error {
		$link = import_um_link_args( $body );
		if ( isset( $body['title'] ) ) {
			update_blog_option( $blog_id, 'blogname', to_text( $body['title'], 'title', 191, false ) );
		}
		import_um_save_link( $blog_id, $link );
		return null;
	}

	public function create_product( array $body ): int|\WP_Error {
		return import_um_save_product( null, $body );
	}

	public function update_product( int $id, array $body ): string|\WP_Error {
		$saved = import_um_save_product( $id, $body );
		return is_wp_error( $saved ) ? $saved : (string) wu_get_product( $id )->get_slug();
	}

	public function write_payment( ?int $id, array $values ): int|\WP_Error {
		return import_um_write_payment( $id, $values );
	}

	public function check_invoice_number( string $number ): void {
		// UM keeps an invoice number as the text it is given.
	}
}
