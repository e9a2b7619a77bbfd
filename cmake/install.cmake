# install.cmake - what cmake --install puts where, and the two Debian
# packages make deb builds from the same rules (CPack DEB). Included by the
# top-level CMakeLists.txt; the layout and the choices are explained in
# docs/packaging.md.
#
#   component edge: firelane-edge, /etc/firelane/edge.yaml, its unit, its
#                   sysusers.d entry, firelane-edge(8)
#   component hub:  firelane-hub, firelane-verify, /etc/firelane/hub.yaml,
#                   its unit, its sysusers.d entry, firelane-hub(8)
#
# The web UI is compiled into firelane-hub (cmake/embed.cmake): there are
# no asset files to install. The other tools (firelane-scene, -eval,
# -plates, -hubbench, -flood) are for developing and measuring firelane,
# and stay in the build tree.

include(GNUInstallDirs)

# The daemons' fixed places: the units name them, so they do not follow
# CMAKE_INSTALL_PREFIX (systemd's ConfigurationDirectory= and
# StateDirectory= are always /etc/firelane and /var/lib/firelane).
set(FL_CONFDIR /etc/firelane)
set(FL_STATEDIR /var/lib/firelane)
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(fl_unitdir_default /lib/systemd/system) # Debian 12's place
else()
  set(fl_unitdir_default ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
endif()
set(FL_UNITDIR ${fl_unitdir_default} CACHE PATH
    "Where the systemd units are installed")
set(FL_SYSUSERSDIR ${CMAKE_INSTALL_PREFIX}/lib/sysusers.d CACHE PATH
    "Where the sysusers.d entries are installed")
set(FL_BINDIR ${CMAKE_INSTALL_FULL_BINDIR})

# ---- generated files: units, the installed configurations, man pages ----

set(fl_gen ${PROJECT_BINARY_DIR}/install)
foreach(unit firelane-edge firelane-hub)
  configure_file(systemd/${unit}.service.in ${fl_gen}/${unit}.service @ONLY)
endforeach()

# The installed configurations are the samples generated from the schema
# tables (docs/config.md, docs/hub-config.md) with the state paths put
# under /var/lib/firelane: a relative path would resolve against
# /etc/firelane, which the units keep read-only. A sample whose line is
# not found any more stops the configuration here, not on a device.
function(fl_installed_config sample out header)
  file(READ ${PROJECT_SOURCE_DIR}/${sample} text)
  set(pairs ${ARGN})
  list(LENGTH pairs n)
  math(EXPR last "${n} - 1")
  foreach(i RANGE 0 ${last} 2)
    math(EXPR j "${i} + 1")
    list(GET pairs ${i} from)
    list(GET pairs ${j} to)
    string(FIND "${text}" "${from}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "${sample}: no line with '${from}' to set for "
              "the installed configuration (cmake/install.cmake)")
    endif()
    string(REPLACE "${from}" "${to}" text "${text}")
  endforeach()
  # A state path left relative would resolve against /etc/firelane, which
  # the units keep read-only: every *dir and *file key set here must be
  # absolute or empty (a key the tables gained since is named here).
  string(REGEX MATCH "\n *[a-z_]*(dir|file): \"[^/\"][^\n]*" rel "${text}")
  if(rel)
    string(STRIP "${rel}" rel)
    message(FATAL_ERROR "${sample}: '${rel}': a relative path in the "
            "installed configuration; set it under ${FL_STATEDIR} in "
            "cmake/install.cmake")
  endif()
  file(WRITE ${out} "${header}${text}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
               ${PROJECT_SOURCE_DIR}/${sample})
endfunction()

fl_installed_config(docs/firelane.sample.yaml ${fl_gen}/edge.yaml
  "# /etc/firelane/edge.yaml: firelane-edge's configuration (firelane-edge(8)).
# Set device, mqtt and cameras, then: systemctl restart firelane-edge
# Installed from docs/firelane.sample.yaml with its state under
# ${FL_STATEDIR}/edge. Every key and its help: docs/config.md.
"
  "key_file: \"device.key\"" "key_file: \"${FL_STATEDIR}/edge/device.key\""
  "state_dir: \"state\"" "state_dir: \"${FL_STATEDIR}/edge/state\""
  "  dir: \"\"  # evidence store folder"
  "  dir: \"${FL_STATEDIR}/edge/evidence\"  # evidence store folder"
  "spool_dir: \"spool\"" "spool_dir: \"${FL_STATEDIR}/edge/spool\"")
fl_installed_config(docs/firelane-hub.sample.yaml ${fl_gen}/hub.yaml
  "# /etc/firelane/hub.yaml: firelane-hub's configuration (firelane-hub(8)).
# Set mqtt, public_url, timezone and alerts, then: systemctl restart
# firelane-hub. Installed from docs/firelane-hub.sample.yaml, with the web
# UI on 127.0.0.1:8080. Every key and its help: docs/hub-config.md.
"
  "  listen: \"\"  # ADDR:PORT" "  listen: \"127.0.0.1:8080\"  # ADDR:PORT"
  "sqlite: \"/var/lib/firelane/hub.db\"" "sqlite: \"${FL_STATEDIR}/hub.db\""
  "evidence_dir: \"/var/lib/firelane/evidence\""
  "evidence_dir: \"${FL_STATEDIR}/evidence\"")

# Man pages: roff sources in docs/man/, compressed as Debian installs them.
find_program(GZIP_EXE gzip REQUIRED)
set(fl_man_gz "")
foreach(page firelane-edge.8 firelane-hub.8)
  add_custom_command(OUTPUT ${fl_gen}/${page}.gz
    COMMAND ${GZIP_EXE} -9nc ${PROJECT_SOURCE_DIR}/docs/man/${page}
            > ${fl_gen}/${page}.gz
    DEPENDS ${PROJECT_SOURCE_DIR}/docs/man/${page}
    COMMENT "Compressing ${page}")
  list(APPEND fl_man_gz ${fl_gen}/${page}.gz)
endforeach()
add_custom_target(fl_man ALL DEPENDS ${fl_man_gz})

# ---- what goes where ------------------------------------------------------

# A configuration file already in place is the administrator's: a direct
# `cmake --install` leaves it and puts the new one beside it (.new). A
# package's staging folder (DESTDIR) is always empty; dpkg then handles the
# conffile. file(INSTALL) puts DESTDIR before an absolute DESTINATION
# itself; the check must do it by hand.
function(fl_install_config file component)
  install(CODE "
    set(new \"\")
    if(EXISTS \"\$ENV{DESTDIR}${FL_CONFDIR}/${file}\")
      set(new RENAME ${file}.new)
      message(STATUS \"Kept: ${FL_CONFDIR}/${file}; the new one is ${file}.new\")
    endif()
    file(INSTALL \"${fl_gen}/${file}\" DESTINATION \"${FL_CONFDIR}\" \${new}
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)" COMPONENT ${component})
endfunction()

# fl_install_daemon(COMP): what each daemon has beside its programs: its
# configuration, unit, sysusers.d entry (the same user for both) and man
# page, in component COMP (edge, hub).
function(fl_install_daemon comp)
  fl_install_config(${comp}.yaml ${comp})
  install(FILES ${fl_gen}/firelane-${comp}.service DESTINATION ${FL_UNITDIR}
          COMPONENT ${comp})
  install(FILES systemd/firelane.sysusers DESTINATION ${FL_SYSUSERSDIR}
          RENAME firelane-${comp}.conf COMPONENT ${comp})
  install(FILES ${fl_gen}/firelane-${comp}.8.gz
          DESTINATION ${CMAKE_INSTALL_MANDIR}/man8 COMPONENT ${comp})
endfunction()

install(TARGETS firelane-edge RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        COMPONENT edge)
fl_install_daemon(edge)
if(TARGET firelane-hub)
  install(TARGETS firelane-hub firelane-verify
          RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT hub)
  # backup and restore of the store and evidence (docs/deploy.md)
  install(PROGRAMS scripts/firelane-backup
          DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT hub)
  fl_install_daemon(hub)
endif()

# ---- Debian packages (make deb) -------------------------------------------

# The maintainer scripts: one template for both packages (packaging/deb/).
foreach(comp edge hub)
  set(FL_PKG firelane-${comp})
  set(FL_CONFFILE ${FL_CONFDIR}/${comp}.yaml)
  if(comp STREQUAL "edge")
    set(FL_STATE_DIRS "${FL_STATEDIR} ${FL_STATEDIR}/edge")
    # the edge writes what the hub applies over its configuration
    set(FL_CONF_OWNER firelane)
  else()
    set(FL_STATE_DIRS "${FL_STATEDIR}")
    set(FL_CONF_OWNER root)
  endif()
  foreach(script postinst prerm postrm)
    configure_file(packaging/deb/${script}.in
                   ${fl_gen}/deb-${comp}/${script} @ONLY
                   FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
                   GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  endforeach()
  file(WRITE ${fl_gen}/deb-${comp}/conffiles "${FL_CONFFILE}\n")
endforeach()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME firelane)
set(CPACK_PACKAGE_VENDOR firelane)
set(CPACK_PACKAGE_CONTACT "firelane developers <firelane@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL edge hub)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_EDGE_PACKAGE_NAME firelane-edge)
set(CPACK_DEBIAN_EDGE_PACKAGE_SECTION video)
# Beyond the libraries (shlibdeps): the evidence banner's CJK font, kill
# for the unit's ExecReload (procps), and the user's creator
# (systemd-sysusers, else adduser).
set(CPACK_DEBIAN_EDGE_PACKAGE_DEPENDS "fonts-noto-cjk, procps, systemd | adduser")
set(CPACK_DEBIAN_EDGE_PACKAGE_SUGGESTS "alsa-utils, mosquitto-clients")
set(CPACK_DEBIAN_EDGE_DESCRIPTION
"fire-lane obstruction monitor: the capture device's daemon
firelane-edge watches fire lanes through one to four cameras, raises an
alarm when a vehicle or clutter stays at rest past the grace time, warns
on site, writes signed evidence bundles and reports to firelane-hub over
MQTT, spooling while the broker is away. Runs as the systemd service
firelane-edge: enabled at install, started by the administrator once
/etc/firelane/edge.yaml is set (or at the next boot).")
set(CPACK_DEBIAN_EDGE_PACKAGE_CONTROL_EXTRA
    "${fl_gen}/deb-edge/postinst;${fl_gen}/deb-edge/prerm;${fl_gen}/deb-edge/postrm;${fl_gen}/deb-edge/conffiles")

set(CPACK_DEBIAN_HUB_PACKAGE_NAME firelane-hub)
set(CPACK_DEBIAN_HUB_PACKAGE_SECTION net)
set(CPACK_DEBIAN_HUB_PACKAGE_DEPENDS "systemd | adduser")
# libpq5 (the PostgreSQL store) comes from SHLIBDEPS, as every library the
# hub links; the server itself may be another machine's. sqlite3:
# firelane-backup's online backup of the store (the default, SQLite);
# postgresql-client: its pg_dump, pg_restore and psql for a store on a
# PostgreSQL server elsewhere (the server package brings them too)
set(CPACK_DEBIAN_HUB_PACKAGE_RECOMMENDS "sqlite3")
set(CPACK_DEBIAN_HUB_PACKAGE_SUGGESTS "mosquitto, postgresql, postgresql-client")
set(CPACK_DEBIAN_HUB_DESCRIPTION
"fire-lane obstruction monitor: the fleet's hub and review web UI
firelane-hub receives the incidents of every firelane-edge device over
MQTT, verifies their signed evidence, stores them in SQLite (or on a
PostgreSQL server), alerts property managers and enforcement (WeCom,
DingTalk, webhooks, MQTT) and serves the review web UI and its JSON API.
Includes firelane-verify, the
offline checker of evidence bundles. Runs as the systemd service
firelane-hub: enabled at install, started by the administrator once
/etc/firelane/hub.yaml is set (or at the next boot).")
set(CPACK_DEBIAN_HUB_PACKAGE_CONTROL_EXTRA
    "${fl_gen}/deb-hub/postinst;${fl_gen}/deb-hub/prerm;${fl_gen}/deb-hub/postrm;${fl_gen}/deb-hub/conffiles")

include(CPack)
