<?php
/**
 * UM's customer "Change" form as an oracle: `Checkout_Form::membership_change_form_fields()` per scenario.
 *
 *   php form_batch.php --um-json=F < scenarios.jsonl > results.jsonl
 *
 * Scenarios are cart_batch.php's format (products with groups, list_order, active, available_addons; a
 * membership); each runs in a transaction rolled back. Output per line: the plans the form lists (keys, in order,
 * with `active`), the period options (whether the selector is shown, and each option), the add-ons (order bumps).
 */
require __DIR__ . '/boot.php'; // --um-json=F: fakes the request and loads WordPress with Ultimate Multisite

function fb_run($in) {
	global $wpdb;
	// The network's own plans (a seeded sandbox has some) would join a groupless plan's "first 3 plans": hide them
	// for this scenario (rolled back with it).
	$wpdb->query("UPDATE {$wpdb->base_prefix}wu_products SET type = 'wpbridge_hidden' WHERE type = 'plan'");
	$sfx    = substr(md5(uniqid('', true)), 0, 8);
	$specs  = (array) ($in['products'] ?? []);
	$prods  = [];
	$key_of = [];
	foreach ($specs as $k => $p) {
		$data = [
			'name' => "Probe $k", 'slug' => "probe-$k-$sfx", 'pricing_type' => 'paid', 'currency' => 'USD',
			'amount' => $p['amount'] ?? 0, 'setup_fee' => $p['setup_fee'] ?? 0, 'duration' => $p['duration'] ?? 1,
			'duration_unit' => $p['duration_unit'] ?? 'month', 'recurring' => $p['recurring'] ?? true,
			'active' => $p['active'] ?? true, 'type' => $p['type'] ?? 'plan', 'list_order' => $p['list_order'] ?? 10,
			'group' => $p['product_group'] ?? '',
		];
		if (! empty($p['price_variations'])) {
			$data['price_variations'] = $p['price_variations'];
		}
		$prod = wu_create_product($data);
		if (is_wp_error($prod) || ! $prod->get_id()) {
			throw new Exception("wu_create_product($k)");
		}
		$prods[ $k ]                = $prod;
		$key_of[ $prod->get_id() ] = $k;
	}
	foreach ($specs as $k => $p) {
		if (! empty($p['available_addons'])) {
			$prods[ $k ]->set_available_addons(array_map(fn($a) => $prods[ $a ]->get_id(), $p['available_addons']));
			$prods[ $k ]->save();
		}
	}
	$uid  = wp_insert_user(['user_login' => "fb_$sfx", 'user_email' => "fb_$sfx@example.test", 'user_pass' => 'x' . $sfx]);
	$cust = wu_create_customer(['user_id' => $uid, 'email_verification' => 'verified']);
	$m    = (array) $in['membership'];
	$plan = $prods[ $m['plan'] ];
	$mem  = wu_create_membership([
		'customer_id' => $cust->get_id(), 'user_id' => $uid, 'plan_id' => $plan->get_id(), 'amount' => $m['amount'] ?? $plan->get_amount(),
		'initial_amount' => $m['initial_amount'] ?? $plan->get_amount(), 'currency' => 'USD',
		'duration' => $m['duration'] ?? $plan->get_duration(),
		'duration_unit' => $m['duration_unit'] ?? $plan->get_duration_unit(), 'recurring' => true,
		'status' => 'active', 'times_billed' => 1,
	]);
	if (is_wp_error($mem) || ! wu_get_membership($mem->get_id())) {
		throw new Exception('wu_create_membership: ' . (is_wp_error($mem) ? $mem->get_error_message() : 'not saved'));
	}
	$_REQUEST['membership_id'] = $mem->get_id();
	$steps  = \WP_Ultimo\Models\Checkout_Form::membership_change_form_fields();
	$fields = [];
	foreach ((array) $steps as $step) {
		$fields = array_merge($fields, (array) ($step['fields'] ?? []));
	}
	$out = ['plans' => [], 'periods' => null, 'period_selector' => false, 'addons' => []];
	foreach ($fields as $f) {
		if ('period_selection' === ($f['type'] ?? '')) {
			$out['period_selector'] = true;
			$out['periods'] = array_map(fn($o) => [(int) $o['duration'], $o['duration_unit']], $f['period_options']);
		} elseif ('pricing_table' === ($f['type'] ?? '')) {
			foreach (array_filter(explode(',', (string) $f['pricing_table_products'])) as $id) {
				$p = wu_get_product((int) $id);
				$out['plans'][] = ['key' => $key_of[ (int) $id ] ?? (int) $id, 'active' => (bool) $p->is_active()];
			}
		} elseif ('order_bump' === ($f['type'] ?? '')) {
			$p = wu_get_product((int) $f['product']);
			$out['addons'][] = ['key' => $key_of[ (int) $f['product'] ] ?? (int) $f['product'],
				'active' => (bool) $p->is_active(), 'type' => $p->get_type()];
		}
	}
	return $out;
}

global $wpdb;
$fb_admin = get_user_by('login', 'admin');
if ($fb_admin) {
	wp_set_current_user($fb_admin->ID);
}
while (($fb_line = fgets(STDIN)) !== false) {
	$fb_line = trim($fb_line);
	if ('' === $fb_line) {
		continue;
	}
	$fb_in = json_decode($fb_line, true);
	$wpdb->query('START TRANSACTION');
	try {
		$fb_out = ['ok' => true] + fb_run($fb_in);
	} catch (Throwable $e) {
		$fb_out = ['ok' => false, 'error' => $e->getMessage()];
	}
	$wpdb->query('ROLLBACK');
	wp_cache_flush();
	echo wp_json_encode(['id' => $fb_in['id'] ?? null] + $fb_out, JSON_UNESCAPED_SLASHES), "\n";
}
