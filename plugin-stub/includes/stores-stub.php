<?php
/**
 * Stub mode's stores (stores.php): the plugin's own tables ({$wpdb->base_prefix}wpbridge_*) and site meta. The
 * writes of `wu/v2` records go through the stub's own `wu/v2` handlers (internal requests), so every value check
 * is the one of the REST API.
 *
 * @package WPBridge
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/** Stub mode: every store on the plugin's own tables; it serves `wu/v2` itself and enforces quotas. */
final class Stub_Flavor extends Flavor {

	public function __construct() {
		$sites = new Stub_Site_Store();
		parent::__construct(
			'stub',
			new Stub_Catalog_Store(),
			$sites,
			new Stub_Limits_Store(),
			new Stub_Schedule_Store(),
			new Stub_Membership_Store(),
			new Stub_Import_Store(),
			new Stub_Payment_Store()
		);
	}

	public function serves_wu_v2(): bool {
		return true;
	}
}

final class Stub_Catalog_Store implements Catalog_Store {

	public function catalog(): array {
		global $wpdb;
		$products = $wpdb->get_results( 'SELECT * FROM ' . ident( table( 'products' ) ) . ' ORDER BY list_order ASC, id ASC', ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- no value, the table name quoted by ident().
		$codes    = $wpdb->get_results( 'SELECT * FROM ' . ident( table( 'discount_codes' ) ) . ' ORDER BY id ASC', ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- no value, the table name quoted by ident().
		return array(
			'products'       => array_map( fn( $r ) => product_out( ( tax_store( flavor() )->product_flags()[ (int) $r['id'] ] ?? array() ) + $r ), $products ?: array() ),
			'discount_codes' => array_map( __NAMESPACE__ . '\\discount_code_out', $codes ?: array() ),
		);
	}
}

/** Links in the table `site_links` (blog_id → membership, customer, type, own override); no row = not linked. */
final class Stub_Site_Store implements Site_Store {

	public function sql(): string {
		global $wpdb;
		$main = (int) get_main_site_id();
		return $wpdb->prepare(
			// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table names quoted by ident(); the import's join is constant SQL.
			'(SELECT b.blog_id, b.domain, b.path, b.registered, b.last_updated, b.public, b.archived, b.spam, b.deleted,
				COALESCE(l.membership_id, 0) AS membership_id, COALESCE(l.customer_id, 0) AS customer_id,
				COALESCE(l.type, IF(b.blog_id = %d, \'main\', \'default\')) AS type, IF(b.blog_id = %d, 1, 0) AS is_main,
				l.limitations, 0 AS suspended, p.membership_id AS pending_membership_id
			FROM ' . ident( $wpdb->blogs ) . ' b LEFT JOIN ' . ident( table( 'site_links' ) ) . ' l ON l.blog_id = b.blog_id ' . pending_site_join() . '
			WHERE b.site_id = %d) s',
			$main,
			$main,
			get_current_network_id()
		);
	}

	public function override( ?string $raw ): ?array {
		$v = json_in( $raw, null );
		return is_array( $v ) ? $v : null;
	}

	/** Blogmeta `wpbridge_custom_domains` (a count). */
	public function custom_domain_counts( array $blog_ids ): array {
		global $wpdb;
		if ( ! $blog_ids ) {
			return array();
		}
		$out = array();
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the IN list is made of %d placeholders.
		$rows = $wpdb->get_results( $wpdb->prepare( "SELECT blog_id, meta_value FROM {$wpdb->blogmeta} WHERE meta_key = 'wpbridge_custom_domains' AND blog_id IN (" . placeholders( $blog_ids, '%d' ) . ')', array_map( 'intval', $blog_ids ) ), ARRAY_A );
		foreach ( $rows ?: array() as $r ) {
			$out[ (int) $r['blog_id'] ] = max( 0, (int) $r['meta_value'] );
		}
		return $out;
	}
}

/** Quotas written to each site (blogmeta `wpbridge_quota`, quota.php), enforced by the plugin itself. */
final class Stub_Limits_Store implements Limits_Store {

	public function limits( array $blog_ids ): array {
		return quotas_for( $blog_ids );
	}

	public function put( int $blog_id, array $limitations ): object {
		return quota_write_refusal( $blog_id ) ?? put_quota( $blog_id, $limitations ) ?? limitations_out( quota( $blog_id ) );
	}

	public function delete( int $blog_id ): array|\WP_Error {
		$refusal = quota_write_refusal( $blog_id );
		if ( $refusal ) {
			return $refusal;
		}
		delete_quota( $blog_id );
		return array( 'deleted' => true );
	}

	public function hooks(): void {
		enforce_hooks();
	}
}

/** The table `scheduled_changes`: one row per membership, the target checked like a membership write. */
final class Stub_Schedule_Store implements Schedule_Store {

	public function list( ?string $due_before, ?int $membership_id, int $limit, int $offset ): array {
		global $wpdb;
		$where = array( '1=1' );
		if ( null !== $due_before ) {
			$where[] = $wpdb->prepare( 'scheduled_for <= %s', $due_before );
		}
		if ( null !== $membership_id ) {
			$where[] = $wpdb->prepare( 'membership_id = %d', $membership_id );
		}
		$t     = ident( table( 'scheduled_changes' ) );
		$w     = implode( ' AND ', $where ); // Each condition prepared above.
		$total = (int) $wpdb->get_var( "SELECT COUNT(*) FROM $t WHERE $w" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- prepared conditions, quoted table.
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- prepared conditions, quoted table.
		$rows = $wpdb->get_results( $wpdb->prepare( "SELECT * FROM $t WHERE $w ORDER BY scheduled_for ASC, membership_id ASC LIMIT %d OFFSET %d", $limit, $offset ), ARRAY_A );
		return array( array_map( __NAMESPACE__ . '\\scheduled_change_out', $rows ?: array() ), $total );
	}

	public function get( int $membership_id ): array|\WP_Error {
		$row = scheduled_row( $membership_id );
		return $row ? scheduled_change_out( $row ) : no_scheduled_change();
	}

	/**
	 * The target holds membership fields, each checked like a membership write, and merged onto the membership it
	 * must pass the membership's whole-record checks (the plan exists and is a plan, add-ons exist...).
	 */
	public function put( int $membership_id, \DateTimeImmutable $when, array $target, mixed $note, bool $force = false ): array|\WP_Error {
		global $wpdb;
		$scheduled_for = db_datetime( $when, 'scheduled_for' );
		$spec          = entities()['membership'];
		$clean         = array();
		foreach ( $target as $k => $v ) {
			if ( ! isset( $spec['fields'][ $k ] ) ) {
				throw new Invalid( "target.$k", __( 'is not a membership field that can be set', 'wpbridge-stub' ) );
			}
			$clean[ $k ] = ( $spec['fields'][ $k ] )( $v, "target.$k" );
		}
		$current = row( 'membership', $membership_id );
		foreach ( $spec['json'] as $c ) {
			$current[ $c ] = json_in( $current[ $c ] );
		}
		$merged = array_merge( $current, $clean );
		try {
			check_membership( $merged, $current );
		} catch ( Invalid $e ) {
			throw new Invalid( 'target.' . $e->field, $e->getMessage() );
		}
		$note = to_string( $note, 'note', 1000 );
		$now  = now_gmt();
		$old  = scheduled_row( $membership_id );
		$wpdb->replace(
			table( 'scheduled_changes' ),
			array(
				'membership_id' => $membership_id,
				'scheduled_for' => $scheduled_for,
				'target'        => json_out( target_out( $clean ) ),
				'note'          => $note,
				'created_at'    => $old['created_at'] ?? $now,
				'updated_at'    => $now,
			)
		);
		return scheduled_change_out( scheduled_row( $membership_id ) );
	}

	public function delete( int $membership_id ): array {
		global $wpdb;
		$wpdb->delete( table( 'scheduled_changes' ), array( 'membership_id' => $membership_id ) );
		return array( 'deleted' => true );
	}
}

/** The `memberships` table: its `limitations` column is the membership's own override. */
final class Stub_Membership_Store implements Membership_Store {

	public function exists( int $id ): bool {
		return (bool) row( 'membership', $id );
	}

	public function own_limitations( array $ids ): array {
		global $wpdb;
		if ( ! $ids ) {
			return array();
		}
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- quoted table, an IN list of %d placeholders.
		$rows = $wpdb->get_results( $wpdb->prepare( 'SELECT id, limitations FROM ' . ident( table( 'memberships' ) ) . ' WHERE id IN (' . placeholders( $ids, '%d' ) . ') ORDER BY id ASC', array_map( 'intval', $ids ) ), ARRAY_A );
		$out  = array();
		foreach ( $rows ?: array() as $r ) {
			$v                   = json_in( $r['limitations'], array() );
			$out[ (int) $r['id'] ] = array(
				'limitations' => is_array( $v ) ? $v : null,
				'unreadable'  => is_array( $v ) ? null : __( 'the stored limitations are not an object', 'wpbridge-stub' ),
			);
		}
		return $out;
	}
}

/** Imports through the stub's own `wu/v2` handlers (internal requests: the REST API's checks), payments directly. */
final class Stub_Import_Store implements Import_Store {

	public function table_of( string $entity ): string {
		return table( $entity );
	}

	public function billing_address_sql(): string {
		return 'c.billing_address';
	}

	public function has_trialed_sql(): string {
		return 'c.has_trialed';
	}

	/** Any: the stub keeps the address as JSON. */
	public function billing_address_keys(): ?array {
		return null;
	}

	public function create_customer( string $email, ?string $username, ?\WP_User $user, array $fields ): int|\WP_Error {
		$create = $fields;
		if ( $user ) {
			$create['user_id'] = (int) $user->ID;
		} else {
			$create['email']    = $email;
			$create['username'] = $username ?: import_username_from( $email );
		}
		$data = import_internal( 'POST', '/wu/v2/customer', $create );
		return is_wp_error( $data ) ? $data : (int) $data['id'];
	}

	public function update_customer( int $id, array $body ): ?\WP_Error {
		$data = import_internal( 'PUT', "/wu/v2/customer/$id", $body );
		return is_wp_error( $data ) ? $data : null;
	}

	public function create_membership( array $body ): int|\WP_Error {
		$data = import_internal( 'POST', '/wu/v2/membership', $body );
		return is_wp_error( $data ) ? $data : (int) $data['id'];
	}

	public function update_membership( int $id, array $body ): mixed {
		return import_internal( 'PUT', "/wu/v2/membership/$id", $body );
	}

	public function link_site( int $blog_id, array $body ): void {
		import_internal( 'PUT', "/wu/v2/site/$blog_id", array_intersect_key( $body, array_flip( array( 'membership_id', 'customer_id', 'type' ) ) ) );
	}

	public function create_site( string $domain, string $path, array $body ): int|\WP_Error {
		$create = array_intersect_key( $body, array_flip( array( 'title', 'membership_id', 'customer_id', 'type', 'limitations' ) ) );
		// The stub's own create takes the site's slug as a path (a subdomain network: the domain's first label).
		$create['path'] = is_subdomain_install() ? '/' . strstr( $domain, '.', true ) . '/' : $path;
		$data           = import_internal( 'POST', '/wu/v2/site', $create );
		return is_wp_error( $data ) ? $data : (int) $data['blog_id'];
	}

	public function update_site( int $blog_id, array $body ): ?\WP_Error {
		$data = import_internal( 'PUT', "/wu/v2/site/$blog_id", array_intersect_key( $body, array_flip( array( 'title', 'membership_id', 'customer_id', 'type' ) ) ) );
		return is_wp_error( $data ) ? $data : null;
	}

	public function create_product( array $body ): int|\WP_Error {
		$data = import_internal( 'POST', '/wu/v2/product', $body );
		return is_wp_error( $data ) ? $data : (int) $data['id'];
	}

	public function update_product( int $id, array $body ): string|\WP_Error {
		if ( array_key_exists( 'product_group', $body ) ) {
			$body['group'] = $body['product_group'];
			unset( $body['product_group'] );
		}
		$data = import_internal( 'PUT', "/wu/v2/product/$id", $body );
		return is_wp_error( $data ) ? $data : (string) $data['slug'];
	}

	public function write_payment( ?int $id, array $values ): int|\WP_Error {
		return import_stub_write_payment( $id, $values );
	}

	public function check_invoice_number( string $number ): void {
		if ( '' !== $number && ! ctype_digit( $number ) ) {
			throw new Invalid( 'invoice_number', __( 'the stub keeps invoice numbers as numbers', 'wpbridge-stub' ) );
		}
	}
}
