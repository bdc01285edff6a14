"""Smart thermostats: 24 V HVAC, battery and line-voltage baseboard models. Original text written for Mighty."""

DEVICE = "smart_thermostat"
NOUNS = ["my thermostat", "my {short}", "my smart thermostat", "the thermostat", "my {short} thermostat"]
FAMILIES = {
    "t5": ("ThermaHome T5 24 V smart thermostat", "ThermaHome T5"),
    "t3": ("ThermaHome T3 battery smart thermostat", "ThermaHome T3"),
    "lv": ("ThermaHome LV line-voltage baseboard thermostat (120/240 V)", "ThermaHome LV"),
}
UNSAFE = ["bypass the breaker", "work on the wiring with the power on", "connect line voltage to a 24 V thermostat",
          "jump the R and W wires to force the heat on"]
ESCALATION = ["the HVAC system does not respond to the thermostat after checking wiring and settings",
              "you are not comfortable turning off power and handling wiring: call a licensed HVAC technician or electrician"]

ISSUES = """
== no_power_after_install t5 manual
T T5 screen stays blank after installation
C no C (common) wire so the thermostat has no continuous 24 V; HVAC breaker or furnace door switch off; loose wire in a terminal; blown 3 A fuse on the furnace control board
S {dev} won't turn on after I installed it; the screen on {dev} is blank; {dev} has no power
1 Check the furnace/air handler {breaker} and the service switch next to the unit are on, and the furnace door is closed firmly (it presses a safety switch).
2 Turn the HVAC power off, pull the thermostat off its base and check each wire is pushed fully into its {terminal} with the button popped up.
3 Confirm a {C wire|common wire|c-wire} is connected at both the thermostat and the control board: the T5 needs continuous 24 V.
4 If there is no spare wire, fit the included {power adapter|adapter|power extender} at the furnace following the guide, or ask an HVAC technician.
5 Check the {fuse} on the furnace control board (usually 3 A or 5 A): a blown fuse means a wiring short that a technician should find.

== low_battery_no_c_wire t5 guide
T Thermostat shows a low-power warning and drops Wi-Fi
C no C wire so it steals power through the heating or cooling wire; power stealing fails with some systems
S {dev} keeps saying low battery; {dev} goes offline and reboots; my furnace clicks on and off with {dev}
1 Check the {power|voltage} readout in the technical info menu; below about 3.7 V the battery is not charging.
2 Turn off HVAC power and look for an unused wire in the bundle that could become a {C wire|common wire|c-wire}.
3 If none, install the {power adapter|adapter} kit at the control board.
4 Recheck the {wiring|terminals} and restore power.

== heat_not_turning_on t5 faq
T Heating does not start when the thermostat calls for heat
C mode set to cool or off; schedule eco temperature; W1 wire loose; furnace switch off
S {dev} says heating but nothing happens; the heat won't come on with {dev}; {dev} calls for heat but the furnace stays cold
1 Set the {mode|heat mode} to Heat and raise the setpoint at least 2 degrees above room temperature.
2 Check for an {eco|away|schedule} mode holding a low temperature.
3 Check the furnace {switch|power} and breaker are on.
4 With power off, check the {W1|w wire} wire is secure in its terminal.
5 Wait {5 minutes} for compressor/furnace safety delays.

== ac_not_cooling t5 faq
T Air conditioning does not start
C mode set to heat; Y1 wire loose; outdoor unit breaker tripped; dirty filter freezing the coil
S the ac won't turn on with {dev}; {dev} says cooling but air is warm; {dev} doesn't start the air conditioner
1 Set the mode to {Cool|cool} and lower the setpoint below room temperature.
2 Wait {5 minutes}: the compressor has a protective delay.
3 Check the {outdoor unit|condenser} breaker and disconnect switch.
4 Replace a dirty {air filter|filter}.
5 With power off, check the {Y1|y wire} wire at the thermostat.

== fan_runs_constantly t5 faq
T Fan runs all the time
C fan set to On instead of Auto; fan schedule; G wire shorted
S the fan won't stop with {dev}; {dev} keeps the blower running; fan never turns off with {dev}
1 Set the {fan} mode to Auto.
2 Check the app for a {fan schedule|schedule}.
3 Remove the thermostat; if the fan still runs, the issue is at the {control board|board}.
4 Call an {HVAC technician|technician} if it persists.

== short_cycling t5 guide
T Heating or cooling turns on and off every few minutes
C thermostat in sunlight or draft; oversized system; dirty filter
S {dev} turns the heat on and off all the time; {dev} short cycles; {dev} runs in bursts
1 Move the thermostat away from {sunlight|drafts|vents}.
2 Replace the {air filter|filter}.
3 Adjust the {cycle rate|temperature swing|swing} setting.
4 Have a {technician} check the system.

== wrong_temperature_reading t3 faq
T Thermostat reads the wrong temperature
C placed on an exterior wall; sun; lamp nearby; calibration
S {dev} shows the wrong temperature; {dev} reads too warm; {dev} is off by 3 degrees
1 Check for {heat sources|sunlight|lamp} near the thermostat.
2 Compare with a reliable {thermometer}.
3 Set a {temperature offset|calibration|offset}.
4 Seal the {wall hole|hole} behind it to block drafts.

== wifi_disconnects t3 faq
T Battery thermostat drops off Wi-Fi
C low batteries; weak signal; 2.4 GHz only
S {dev} keeps going offline; {dev} loses wifi; {dev} app says not connected
1 Replace the {batteries|battery}.
2 Check Wi-Fi {signal} at the thermostat.
3 Ensure the {2.4 GHz|2.4ghz} band is enabled.
4 {Reconnect|rejoin} Wi-Fi in settings.

== heat_pump_wrong_mode t5 guide
T Heat pump blows cold air when heating is set
C the reversing valve (O/B) setting does not match the heat pump; installer chose conventional system type
S {dev} blows cold air on heat; my heat pump heats when {dev} says cool; {dev} has heat and cool swapped
1 Open Settings > Equipment > Installation and find the {reversing valve|o/b} setting.
2 Change it from O (energise on cool) to B (energise on {heat|cool}), or the reverse, to match your heat pump's label.
3 Check the system type is set to {heat pump|heat-pump}, not conventional furnace.
4 Test heating and cooling for {5 minutes} each, allowing for the compressor delay.
5 If the outdoor unit still runs the wrong way, ask an {HVAC technician|technician} to check the wiring at the air handler.

== schedule_ignored t3 faq
T Thermostat ignores its schedule
C hold active; geofencing away; eco
S {dev} ignores my schedule; {dev} stays at the wrong temperature; {dev} doesn't follow the program
1 Cancel any {hold|permanent hold}.
2 Check {geofencing|away} status.
3 Check the {schedule} days and times.
4 Check {time zone}.

== batteries_drain t3 faq
T Batteries drain quickly
C lithium vs alkaline; frequent Wi-Fi wake
S {dev} eats batteries; {dev} needs new batteries every month; {dev} battery warning constantly
1 Use fresh {alkaline|aa} batteries.
2 Reduce {screen|backlight} brightness.
3 Improve Wi-Fi {signal}.
4 {Update|firmware}.

== exposed_mains_wiring lv manual safety
T Exposed or loose mains wiring at a line-voltage thermostat
C line-voltage (120/240 V) wires loosened or insulation damaged; wrong thermostat type on a baseboard heater
S I took {dev} off the wall and the wires are exposed; bare wires behind {dev}; {dev} wires came loose
1 Do not touch the wires: {switch off|turn off} the heater's circuit at the breaker panel first.
2 {Stop using|stop} the thermostat and heater until it is inspected.
3 {Call an electrician|electrician} to repair the wiring: line-voltage thermostats carry 120/240 V.
4 {Contact support|support|manufacturer} about a replacement if the thermostat is damaged.
E bare or loose wires, a burning smell, a tripped breaker
U bypass the breaker; twist the wires together; tape the wires while the power is on; work on the wiring with the power on

== lv_buzzing_hot lv faq safety
T Line-voltage thermostat buzzes loudly and its faceplate is hot
C relay overloaded by a heater drawing more than the thermostat's rated current; loose line-voltage terminal arcing inside the box
S {dev} is hot and buzzing; {dev} smells like burning; the faceplate of {dev} is warm and crackling
1 Go to the breaker panel and {switch off|turn off} the circuit feeding the baseboard heater; do not touch the thermostat while it is live.
2 {Stop using|stop} the heater and thermostat, and check nobody switches the breaker back on.
3 Have an {electrician} check the heater's wattage against the thermostat's rating (for example 3,000 W at 240 V) and the terminal connections.
4 {Contact support|support|manufacturer} with the model number: a thermostat that overheated must be replaced, not reused.
E heat, buzzing, crackling or a burning smell from a line-voltage thermostat
U bypass the breaker; keep using it if it still heats; tighten the terminals with the power on

== lv_heater_wont_turn_off lv faq safety
T Baseboard heater keeps heating even with the thermostat set to off
C relay contacts welded shut after overload; thermostat wired in a way that bypasses its switch
S {dev} won't turn the heater off; the baseboard stays hot with {dev} set to off; the room keeps heating even though {dev} is off
1 Turn the heater off at its {breaker} in the panel: the thermostat can no longer control it.
2 Keep furniture, curtains and bedding well away from the heater until it has cooled, and {stop using|stop} that circuit.
3 Book a licensed {electrician} to replace the thermostat and check the heater wiring.
4 {Contact support|support|manufacturer} with the purchase details: a stuck relay is a warranty fault.
E the heater stays on with the thermostat off, or the room overheats
U bypass the breaker; cover the heater with a blanket; pull the wires off the thermostat while it is live

== blank_screen t3 guide
T Battery thermostat screen blank
C dead batteries; corroded contacts
S {dev} screen is blank; {dev} shows nothing; {dev} display is off
1 Replace the {batteries|battery}.
2 Clean the {contacts|battery contacts}.
3 Reseat the thermostat on its {base|mount}.
4 {Reset|factory reset} it.

== aux_heat_overuse t5 faq
T Auxiliary heat runs too much
C aux lockout temperature; fast recovery
S {dev} uses emergency heat a lot; aux heat is always on with {dev}; {dev} runs expensive heat
1 Set the {aux heat lockout|lockout} temperature.
2 Turn off {fast recovery|smart recovery}.
3 Check the {heat pump|compressor} runs.
4 Contact a {technician}.

== humidity_reading_off t3 faq
T Humidity reading wrong
C sensor location
S {dev} humidity is off; {dev} shows 80 percent; {dev} humidity reading wrong
1 Compare with a {hygrometer}.
2 Move away from {bathroom|steam}.
3 {Update|firmware}.
4 {Calibrate|offset}.

== app_shows_offline t5 faq
T App shows offline
C router change; power drops
S {dev} offline in the app; {dev} won't connect to the app; {dev} says disconnected
1 Check {Wi-Fi|wifi} on the thermostat.
2 {Reconnect|rejoin} to the new network.
3 Check {power|c wire}.
4 {Restart|reboot}.

== wiring_error t5 guide
T Thermostat shows a wiring error
C loose wire; detection
S {dev} says wiring error; {dev} shows e1; {dev} says no wire detected
1 Turn off HVAC {power|breaker}.
2 Reseat the {wire|terminal}.
3 Check the {wiring diagram|diagram}.
4 {Restore power|power on}.

== geofencing_not_working t3 faq
T Away mode does not trigger
C phone location permissions
S {dev} doesn't know when I leave; {dev} stays on when I'm out; geofencing on {dev} doesn't work
1 Allow {location|always} permission.
2 Disable {battery saver|battery optimization}.
3 Add all {phones|household}.
4 Check the {home address|address}.
"""
