<?php
/*
 * Plugin Name: wpbridge sandbox: WordPress 6.4/6.5 functions Ultimate Multisite calls unguarded
 * Debian 12 ships WordPress 6.1; Ultimate Multisite 2.4.x calls a few later core functions without checking that
 * they exist. Stand-ins that do nothing harmful, and only for what REST, the models and the Cart never need:
 * script modules (6.5) and admin notices (6.4). Installed by the sandbox's UM flavor only.
 */
if ( ! defined( 'ABSPATH' ) ) {
	exit;
}
if ( ! function_exists( 'wp_register_script_module' ) ) {
	function wp_register_script_module( $id, $src = '', $deps = array(), $version = false ) {
		return null;
	}
}
if ( ! function_exists( 'wp_enqueue_script_module' ) ) {
	function wp_enqueue_script_module( $id, $src = '', $deps = array(), $version = false ) {
		return null;
	}
}
if ( ! function_exists( 'wp_admin_notice' ) ) {
	function wp_admin_notice( $message, $args = array() ) {
		printf( '<div class="notice"><p>%s</p></div>', wp_kses_post( $message ) );
	}
}
