<?php
/**
 * The seam between the routes and where the data lives. Each concept has one store interface here, a stub
 * implementation (stores-stub.php: the plugin's own tables and site meta) and a UM implementation (stores-um.php:
 * Ultimate Multisite's own tables, meta, models and functions). A Flavor holds one store per concept; flavor() picks
 * it once per request, and it is the only code that asks which flavor the network runs. Route registration takes the
 * flavor's stores and hands them to the controllers, which never look at the mode.
 *
 * @package WPBridge
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/** The catalog: products with their limitations, price variations and add-ons; discount codes. */
interface Catalog_Store {

	/** `{"products": [product records by list_order, id], "discount_codes": [records by id]}`. */
	public function catalog(): array;
}

/**
 * Site links and site types: which membership and customer a site belongs to, its type, its own limitations
 * override, and whether it is suspended. Every listing of sites reads them through site_links() (sites.php).
 */
interface Site_Store {

	/**
	 * SQL of a derived table `s`: one row per site of this network, columns blog_id, domain, path, registered,
	 * last_updated, public, archived, spam, deleted, membership_id and customer_id (0: not linked), type (null: not
	 * stored), is_main (0|1), limitations (the stored override, raw), suspended (0|1), pending_membership_id (an
	 * import is creating this site for that membership, or null).
	 */
	public function sql(): string;

	/** The stored override of a site (the raw `limitations` column): an array, or null when none is readable. */
	public function override( ?string $raw ): ?array;

	/** Active custom domains per blog: [blog_id => count]. */
	public function custom_domain_counts( array $blog_ids ): array;
}

/** The limits a site is held to (stub: the quota written to it; UM: what UM computes) and their writes. */
interface Limits_Store {

	/** [blog_id => limitations array, or null when the site has none]. */
	public function limits( array $blog_ids ): array;

	/**
	 * Write a site's quota (absolute; `$limitations` already checked).
	 *
	 * @return object|\WP_Error The stored quota, or why it was not written.
	 */
	public function put( int $blog_id, array $limitations ): object;

	/** Delete a site's quota: `{"deleted": true}`, or why it was not deleted. */
	public function delete( int $blog_id ): array|\WP_Error;

	/** What the flavor hooks into WordPress (stub: the enforcement of quotas and the visit counter). */
	public function hooks(): void;
}

/** Suspension of a site as the flavor's own limits (UM mode: the site's own UM override). */
interface Suspension_Store {

	/**
	 * Suspend a site with `$limitations` (as sent: the store checks them), or lift its suspension. Absolute and
	 * idempotent.
	 *
	 * @return array|\WP_Error `{"blog_id","suspended","limitations"}`.
	 */
	public function suspend( int $blog_id, bool $suspended, mixed $limitations ): array|\WP_Error;
}

/** Scheduled changes: one per membership (stub: the plugin's table; UM: UM's own scheduled swap). */
interface Schedule_Store {

	/**
	 * One page of scheduled changes by date, then membership id.
	 *
	 * @return array{0: array, 1: int} The changes and how many match.
	 */
	public function list( ?string $due_before, ?int $membership_id, int $limit, int $offset ): array;

	/** The change of an existing membership, or 404 `wpbridge_no_scheduled_change` (UM: also 404 for no membership). */
	public function get( int $membership_id ): array|\WP_Error;

	/**
	 * Store the change of an existing membership (absolute); `$target` is a non-empty object of membership fields.
	 * `$force` (UM mode): accept a plan of another group, an inactive plan or an add-on the new plan does not offer.
	 */
	public function put( int $membership_id, \DateTimeImmutable $when, array $target, mixed $note, bool $force = false ): array|\WP_Error;

	/** `{"deleted": true}`, also when there was none. */
	public function delete( int $membership_id ): array;
}

/** A scheduled change applied now by the flavor itself (UM mode: UM's own swap, for networks without WP-cron). */
interface Swap_Applier {

	/** `{"membership_id","applied":true,"scheduled_for"}`, or 404/409. */
	public function apply( int $membership_id ): array|\WP_Error;
}

/** Memberships as the companion routes need them: existence, and each membership's own limitations override. */
interface Membership_Store {

	public function exists( int $id ): bool;

	/**
	 * Own overrides of these memberships (unknown ones left out), in id order.
	 *
	 * @return array [membership_id => ['limitations' => array|null, 'unreadable' => string|null]].
	 */
	public function own_limitations( array $ids ): array;
}

/**
 * The writes of `wpbridge import` (import.php, import-payments.php): ensures and updates of customers,
 * memberships, sites, products and payments. Each write returns the new or written id, or a WP_Error; each throws
 * Invalid (400 naming the field) before it writes anything.
 */
interface Import_Store {

	/** Where customers, memberships, products and payments live (for the import's own reads and keys). */
	public function table_of( string $entity ): string;

	/** The SELECT expression of a customer's billing address (`NULL AS billing_address` where there is none). */
	public function billing_address_sql(): string;

	/** The lines of a billing address the network keeps (null: any). */
	public function billing_address_keys(): ?array;

	/** The SELECT expression of whether a customer has trialed (`... AS has_trialed`; NULL: not said). */
	public function has_trialed_sql(): string;

	public function create_customer( string $email, ?string $username, ?\WP_User $user, array $fields ): int|\WP_Error;

	public function update_customer( int $id, array $body ): ?\WP_Error;

	public function create_membership( array $body ): int|\WP_Error;

	/** The membership's new absolute values; returns the `wu/v2` membership record. */
	public function update_membership( int $id, array $body ): mixed;

	/** Link an existing site (membership, customer, type). */
	public function link_site( int $blog_id, array $body ): void;

	/** A new WordPress site at this address, linked; its blog id. */
	public function create_site( string $domain, string $path, array $body ): int|\WP_Error;

	/** Link a site and set its title. */
	public function update_site( int $blog_id, array $body ): ?\WP_Error;

	public function create_product( array $body ): int|\WP_Error;

	/** The product's new values; its slug. */
	public function update_product( int $id, array $body ): string|\WP_Error;

	/** Write an imported payment (`$id` null: a new one), its values checked (import_payment_values()). */
	public function write_payment( ?int $id, array $values ): int|\WP_Error;

	/** Throws Invalid when the flavor cannot keep this invoice number. */
	public function check_invoice_number( string $number ): void;
}

/**
 * One flavor of the network: a store per concept, and the few facts that are not data (its name for `GET /info`,
 * whether it serves `wu/v2` itself, the API credentials it adds).
 */
abstract class Flavor {

	public function __construct(
		public readonly string $name,
		public readonly Catalog_Store $catalog,
		public readonly Site_Store $sites,
		public readonly Limits_Store $limits,
		public readonly Schedule_Store $schedule,
		public readonly Membership_Store $memberships,
		public readonly Import_Store $imports,
		public readonly Payment_Store $payments,
	) {
	}

	/** True when the plugin serves the `wu/v2` subset itself (routes of crud.php and sites.php). */
	abstract public function serves_wu_v2(): bool;

	/** API credential pairs `[key, secret]` the flavor accepts beside the plugin's own. */
	public function credential_pairs(): array {
		return array();
	}

	/** The UM release whose Cart prices changes (`GET /info`). */
	public function um_version(): string {
		return (string) get_site_option( 'wpbridge_um_version', '2.4.12' );
	}
}

/**
 * The network's flavor, decided once per request after every plugin has loaded: Ultimate Multisite's main class
 * or function present means UM mode. The constant WPBRIDGE_MODE ('stub'|'um') overrides the detection (for tests
 * of UM mode). This is the only place that asks.
 */
function flavor(): Flavor {
	static $flavor = null;
	if ( null === $flavor ) {
		if ( defined( 'WPBRIDGE_MODE' ) && in_array( WPBRIDGE_MODE, array( 'stub', 'um' ), true ) ) {
			$um = 'um' === WPBRIDGE_MODE;
		} else {
			$um = class_exists( '\WP_Ultimo' ) || function_exists( '\WP_Ultimo' );
		}
		$flavor = $um ? new UM_Flavor() : new Stub_Flavor();
	}
	return $flavor;
}
